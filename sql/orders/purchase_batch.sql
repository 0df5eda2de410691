-- Sell a batch of purchases of ONE event (:event_id) in ONE statement: the group commit
-- of sql/orders/purchase.sql. The requests come as parallel arrays, one element each,
-- in arrival order (:user_ids, :quantities, :ticket_type_ids (NULL: the event's first
-- type), :queue_passes, :idempotency_keys, :request_hashes, :token_versions). Returns one
-- row per request, in that order: `ord` (1-based) and the order exactly as purchase.sql
-- returns it, or NULLs (id IS NULL) when this statement did not sell it. A request it did
-- not sell is not refused: the caller runs it again through purchase.sql, whose answer
-- (and why_not_sold.sql) is exact. So this statement may be conservative, never wrong.
--
-- Every rule of the single purchase holds per request: token version, event open (not
-- deleted, not started, on sale), quantity within both max_per_order, the waiting room's
-- pass (admitted, unexpired, the buyer's own for this event; used once), the per-user
-- limit (holdings counter), the event's AND the type's remaining. Each order is all or
-- nothing. Only the first request of each user is considered (the holdings upsert cannot
-- touch one row twice in a statement); a key already claimed (as the snapshot shows) is
-- left to the single path, which replays it. A key claimed concurrently after the
-- snapshot makes the whole statement fail (unique violation): nothing sold, the caller
-- runs every request through the single path.
--
-- How it races: the lock order of purchase.sql. The event row first (FOR NO KEY UPDATE:
-- `remaining` is its newest version), then the wanted type rows in id order (they join
-- the event), then the passes (FOR UPDATE: newest version, so a pass is used once), then
-- the holdings rows in user order (INSERT ... ON CONFLICT reads the counter's newest
-- version). Allocation: in arrival order, a request is accepted iff the running sum of
-- the accepted-so-far candidates fits the event's remaining and the running sum per type
-- fits the type's remaining (candidates already too big alone are left out of the sums).
-- A candidate the holdings WHERE refuses is simply not sold; the event and the types are
-- decremented by what was actually held, once each.
WITH input AS (
    SELECT i.ord, i.user_id, i.quantity, i.queue_pass, i.idempotency_key, i.request_hash,
           i.token_version,
           coalesce(i.ticket_type_id,
                    (SELECT f.id FROM ticket_types f WHERE f.event_id = :'event_id'::uuid
                      ORDER BY f.position LIMIT 1)) AS type_id,
           row_number() OVER (PARTITION BY i.user_id ORDER BY i.ord) AS nth_of_user
      FROM unnest(:'user_ids'::text[]::uuid[], :'quantities'::int[],
                  :'ticket_type_ids'::text[]::uuid[], :'queue_passes'::text[],
                  :'idempotency_keys'::text[], :'request_hashes'::text[],
                  :'token_versions'::int[])
           WITH ORDINALITY AS i(user_id, quantity, ticket_type_id, queue_pass, idempotency_key,
                                request_hash, token_version, ord)
), event AS (
    SELECT id, remaining, max_per_order, max_per_user,
           queue_admit_per_minute IS NOT NULL AS queued
      FROM events e
     WHERE id = :'event_id'::uuid
       AND deleted_at IS NULL
       AND remaining >= (SELECT min(quantity) FROM input)
       AND date > now()
       AND (sale_starts_at IS NULL OR sale_starts_at <= now())
       FOR NO KEY UPDATE  -- the UPDATE's own lock: foreign-key checks (FOR KEY SHARE) pass
), ticket_type AS (
    -- locked after the event (it joins `event`), in id order, at their newest versions
    SELECT tt.id, tt.name, tt.price, tt.remaining, tt.max_per_order
      FROM event
      JOIN ticket_types tt ON tt.event_id = event.id
     WHERE tt.id IN (SELECT type_id FROM input)
       AND tt.remaining > 0
     ORDER BY tt.id
       FOR UPDATE OF tt
), pass AS (
    -- locked after the event and the types (it joins both), at their newest versions
    SELECT q.id, q.pass, q.user_id
      FROM (SELECT 1 FROM event WHERE event.queued AND EXISTS (SELECT FROM ticket_type)) AS locked,
           input i
      JOIN queue_entries q ON q.pass = i.queue_pass AND q.user_id = i.user_id
     WHERE q.event_id = :'event_id'::uuid
       AND q.status = 'admitted'
       AND q.pass_expires_at > now()
     ORDER BY q.id
       FOR UPDATE OF q
), candidate AS (
    SELECT i.*, tt.name AS type_name, tt.price
      FROM input i
      JOIN event ON true
      JOIN ticket_type tt ON tt.id = i.type_id
     WHERE i.nth_of_user = 1
       AND i.quantity >= 1
       AND i.quantity <= event.max_per_order
       AND i.quantity <= tt.max_per_order
       AND i.quantity <= event.remaining
       AND i.quantity <= tt.remaining
       AND coalesce((SELECT h.tickets FROM holdings h
                      WHERE h.event_id = event.id AND h.user_id = i.user_id), 0)
           + i.quantity <= coalesce(event.max_per_user, 2147483647)
       AND (NOT event.queued
            OR EXISTS (SELECT 1 FROM pass p WHERE p.pass = i.queue_pass AND p.user_id = i.user_id))
       AND EXISTS (SELECT 1 FROM users u WHERE u.id = i.user_id AND u.token_version = i.token_version)
       AND (i.idempotency_key IS NULL
            OR NOT EXISTS (SELECT 1 FROM idempotency_keys k
                            WHERE k.user_id = i.user_id AND k.key = i.idempotency_key))
), allocated AS (
    SELECT c.*,
           sum(c.quantity) OVER (ORDER BY c.ord) AS event_sum,
           sum(c.quantity) OVER (PARTITION BY c.type_id ORDER BY c.ord) AS type_sum
      FROM candidate c
), accepted AS (
    SELECT a.*
      FROM allocated a
      JOIN event ON a.event_sum <= event.remaining
      JOIN ticket_type tt ON tt.id = a.type_id AND a.type_sum <= tt.remaining
), held AS (
    INSERT INTO holdings AS h (event_id, user_id, tickets)
    SELECT :'event_id'::uuid, a.user_id, a.quantity
      FROM accepted a
     ORDER BY a.user_id
        ON CONFLICT (event_id, user_id) DO UPDATE
       SET tickets = h.tickets + excluded.tickets
     WHERE h.tickets + excluded.tickets <= coalesce((SELECT max_per_user FROM event), 2147483647)
    RETURNING user_id
), sold_rows AS (
    SELECT a.* FROM accepted a JOIN held ON held.user_id = a.user_id
), sold AS (
    UPDATE events e
       SET remaining = e.remaining - s.quantity
      FROM (SELECT sum(quantity)::int AS quantity FROM sold_rows HAVING count(*) > 0) s
     WHERE e.id = :'event_id'::uuid
    RETURNING e.id, e.name, e.date, e.currency, e.remaining
), type_sold AS (
    UPDATE ticket_types t
       SET remaining = t.remaining - s.quantity
      FROM (SELECT type_id, sum(quantity)::int AS quantity FROM sold_rows GROUP BY type_id) s, sold
     WHERE t.id = s.type_id
    RETURNING t.id
), used_pass AS (
    UPDATE queue_entries q
       SET status = 'purchased', purchased_at = now()
      FROM pass p, sold_rows s, sold
     WHERE q.id = p.id AND p.pass = s.queue_pass AND p.user_id = s.user_id
), new_order AS (
    INSERT INTO orders (user_id, event_id, ticket_type_id, quantity, unit_price, total_amount, expires_at,
                        currency)
    SELECT s.user_id, sold.id, s.type_id, s.quantity, s.price, s.price * s.quantity,
           now() + make_interval(secs => :'hold_seconds'::int), sold.currency
      FROM sold_rows s, sold
     ORDER BY s.ord
    RETURNING id, user_id, event_id, ticket_type_id, quantity, unit_price, total_amount, currency, status, reason,
              expires_at, late_payment_at, created_at, updated_at
), new_tickets AS (
    INSERT INTO tickets (order_id, event_id, ticket_type_id, price)
    SELECT o.id, o.event_id, o.ticket_type_id, o.unit_price
      FROM new_order o, generate_series(1, o.quantity)
    RETURNING id, order_id, price, status, checked_in_at
), announced AS (
    -- Outgoing webhooks (docs/webhooks.md): order.created for each order, and
    -- event.sold_out when this batch sold the last ticket.
    INSERT INTO webhook_deliveries (endpoint_id, type, subject_id)
    SELECT ep.id, ev.type, ev.subject_id
      FROM (SELECT 'order.created' AS type, new_order.id AS subject_id FROM new_order
            UNION ALL
            SELECT 'event.sold_out', sold.id FROM sold WHERE sold.remaining = 0) AS ev
      JOIN webhook_endpoints ep ON ep.disabled_at IS NULL AND ev.type = ANY (ep.events)
), claimed_key AS (
    INSERT INTO idempotency_keys (user_id, key, request_hash, order_id)
    SELECT o.user_id, s.idempotency_key, s.request_hash, o.id
      FROM new_order o
      JOIN sold_rows s ON s.user_id = o.user_id
     WHERE s.idempotency_key IS NOT NULL
)
SELECT i.ord, o.*, s.type_name AS ticket_type_name,
       CASE WHEN o.id IS NOT NULL
            THEN (SELECT json_build_object('id', sold.id, 'name', sold.name, 'date', sold.date) FROM sold)
       END AS event,
       (SELECT json_agg(json_build_object('id', t.id, 'price', t.price::text, 'status', t.status,
                                          'checked_in_at', t.checked_in_at) ORDER BY t.id)
          FROM new_tickets t WHERE t.order_id = o.id) AS tickets
  FROM input i
  LEFT JOIN sold_rows s ON s.ord = i.ord
  LEFT JOIN new_order o ON o.user_id = s.user_id
 ORDER BY i.ord;
