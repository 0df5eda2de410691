-- Sell :quantity tickets of one ticket type of one event to one user in ONE statement:
-- lock the event row, then the type's row (:ticket_type_id, or when null the event's
-- first type), check everything against their newest versions (open, on sale, enough
-- left of the event AND of the type, quantity within both max_per_order, the buyer's
-- Queue-Pass if the event has a waiting room), add the tickets to the buyer's holding
-- within the event's max_per_user, then take the capacity from the event and the type,
-- use the pass and insert the order, its tickets (at the type's price) and, when given,
-- its Idempotency-Key. All or nothing; returns no row when nothing was sold
-- (sql/orders/why_not_sold.sql says why).
-- A key that is already claimed makes the whole statement fail (unique violation), so a
-- retry can never buy twice.
-- The buyer's token must still be valid (its account exists, at :token_version): this
-- is the revocation check other routes run before the view, folded in to save a round trip.
--
-- How it races. A purchase that can succeed first locks the event's row (FOR NO KEY UPDATE
-- re-checks its WHERE against the newest version, so `remaining` is current and no two
-- buyers oversell). One that cannot as far as the statement's snapshot shows (sold out,
-- closed, not on sale yet, over the limit, no valid pass, revoked token) takes no lock
-- at all, so refusals stay cheap in a rush (a sold-out type included: the event's WHERE
-- looks at the type too).
-- Lock order, the same in every statement that takes capacity or gives it back
-- (cancel, expire_due, settle, refund, pay_after_expiry, the event and type edits):
-- the event row first, then its type row. `ticket_type` joins `event`, so its row lock
-- (FOR UPDATE OF tt, re-checking remaining on the newest version) is only taken once the
-- event's is held: two purchases, of the same type or not, can never wait on each other
-- in a cycle. The per-user
-- limit is a counter row (holdings), not a count of orders: the statement's snapshot
-- dates from before it waited for the lock, so a count would miss the same user's
-- purchase that committed meanwhile, while INSERT ... ON CONFLICT DO UPDATE reads and
-- locks the counter's newest version. The pass row is locked too (FOR UPDATE: newest
-- version), so a pass is used once. Only `ticket_type` (its remaining), `sellable` (the
-- pass) and `held` (the limit) can refuse after the locks, and all three come before any
-- change: every later step is gated on `held` and cannot fail, so nothing is ever half
-- done.
WITH event AS (
    SELECT id, name, date, max_per_user, queue_admit_per_minute IS NOT NULL AS queued
      FROM events e
     WHERE id = :'event_id'::uuid
       AND deleted_at IS NULL
       AND remaining >= :'quantity'::int
       AND max_per_order >= :'quantity'::int
       AND EXISTS (SELECT 1 FROM ticket_types tt
                    WHERE tt.event_id = e.id
                      AND (tt.id = :'ticket_type_id'::uuid
                           OR (:'ticket_type_id'::uuid IS NULL
                               AND tt.position = (SELECT min(f.position) FROM ticket_types f
                                                   WHERE f.event_id = e.id)))
                      AND tt.remaining >= :'quantity'::int
                      AND tt.max_per_order >= :'quantity'::int)
       AND date > now()
       AND (sale_starts_at IS NULL OR sale_starts_at <= now())
       AND coalesce((SELECT h.tickets FROM holdings h
                      WHERE h.event_id = e.id AND h.user_id = :'user_id'::uuid), 0)
           + :'quantity'::int <= coalesce(max_per_user, 2147483647)
       AND (queue_admit_per_minute IS NULL
            OR EXISTS (SELECT 1 FROM queue_entries q
                        WHERE q.pass = :'queue_pass'::text AND q.event_id = e.id
                          AND q.user_id = :'user_id'::uuid AND q.status = 'admitted'
                          AND q.pass_expires_at > now()))
       AND EXISTS (SELECT 1 FROM users WHERE id = :'user_id'::uuid AND token_version = :'token_version'::int)
       FOR NO KEY UPDATE  -- the UPDATE's own lock: foreign-key checks (FOR KEY SHARE) pass
), ticket_type AS (
    -- locked after the event (it joins `event`), re-checked at its newest version
    SELECT tt.id, tt.name, tt.price
      FROM event
      JOIN ticket_types tt ON tt.event_id = event.id
     WHERE (tt.id = :'ticket_type_id'::uuid
            OR (:'ticket_type_id'::uuid IS NULL
                AND tt.position = (SELECT min(f.position) FROM ticket_types f WHERE f.event_id = event.id)))
       AND tt.remaining >= :'quantity'::int
       AND tt.max_per_order >= :'quantity'::int
       FOR UPDATE OF tt
), pass AS (
    SELECT q.id
      FROM queue_entries q
     WHERE q.pass = :'queue_pass'::text
       AND q.event_id = :'event_id'::uuid
       AND q.user_id = :'user_id'::uuid
       AND q.status = 'admitted'
       AND q.pass_expires_at > now()
       FOR UPDATE
), sellable AS (
    -- the pass again, at its newest version now that it is locked: used once; and the
    -- type, at its newest version
    SELECT event.*, ticket_type.id AS ticket_type_id, ticket_type.name AS ticket_type_name,
           ticket_type.price
      FROM event, ticket_type
     WHERE NOT event.queued OR EXISTS (SELECT 1 FROM pass)
), held AS (
    INSERT INTO holdings AS h (event_id, user_id, tickets)
    SELECT sellable.id, :'user_id'::uuid, :'quantity'::int
      FROM sellable
        ON CONFLICT (event_id, user_id) DO UPDATE
       SET tickets = h.tickets + excluded.tickets
     WHERE h.tickets + excluded.tickets <= coalesce((SELECT max_per_user FROM sellable), 2147483647)
    RETURNING event_id
), sold AS (
    UPDATE events e
       SET remaining = e.remaining - :'quantity'::int
      FROM held
     WHERE e.id = held.event_id
    RETURNING e.id, e.name, e.date, e.currency, e.remaining
), type_sold AS (
    UPDATE ticket_types t
       SET remaining = t.remaining - :'quantity'::int
      FROM sellable, sold
     WHERE t.id = sellable.ticket_type_id
    RETURNING t.id, t.name, t.price
), used_pass AS (
    UPDATE queue_entries q
       SET status = 'purchased', purchased_at = now()
      FROM pass, sold
     WHERE q.id = pass.id
), new_order AS (
    INSERT INTO orders (user_id, event_id, ticket_type_id, quantity, unit_price, total_amount, expires_at,
                        currency)
    SELECT :'user_id'::uuid, sold.id, type_sold.id, :'quantity'::int, type_sold.price,
           type_sold.price * :'quantity'::int,
           now() + make_interval(secs => :'hold_seconds'::int), sold.currency
      FROM sold, type_sold
    RETURNING id, user_id, event_id, ticket_type_id, quantity, unit_price, total_amount, currency, status, reason,
              expires_at, late_payment_at, created_at, updated_at
), new_tickets AS (
    INSERT INTO tickets (order_id, event_id, ticket_type_id, price)
    SELECT new_order.id, new_order.event_id, new_order.ticket_type_id, new_order.unit_price
      FROM new_order, generate_series(1, :'quantity'::int)
    RETURNING id, price, status, checked_in_at
), announced AS (
    -- Outgoing webhooks (docs/webhooks.md): order.created, and event.sold_out when this
    -- sold the last ticket, for each subscribed endpoint; with none, this inserts nothing.
    INSERT INTO webhook_deliveries (endpoint_id, type, subject_id)
    SELECT ep.id, ev.type, ev.subject_id
      FROM (SELECT 'order.created' AS type, new_order.id AS subject_id FROM new_order
            UNION ALL
            SELECT 'event.sold_out', sold.id FROM sold WHERE sold.remaining = 0) AS ev
      JOIN webhook_endpoints ep ON ep.disabled_at IS NULL AND ev.type = ANY (ep.events)
), claimed_key AS (
    INSERT INTO idempotency_keys (user_id, key, request_hash, order_id)
    SELECT new_order.user_id, :'idempotency_key'::text, :'request_hash'::text, new_order.id
      FROM new_order
     WHERE :'idempotency_key'::text IS NOT NULL
)
SELECT new_order.*, type_sold.name AS ticket_type_name,
       json_build_object('id', sold.id, 'name', sold.name, 'date', sold.date) AS event,
       (SELECT json_agg(json_build_object('id', t.id, 'price', t.price::text, 'status', t.status,
                                          'checked_in_at', t.checked_in_at) ORDER BY t.id)
          FROM new_tickets t) AS tickets
  FROM new_order, sold, type_sold;
