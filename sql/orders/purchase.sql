-- Sell :quantity tickets of one event to one user in ONE statement: take the capacity
-- only if enough remains (and the event is open and the quantity allowed), then insert
-- the order, its tickets and, when given, its Idempotency-Key. All or nothing; returns
-- no row when nothing was sold. A key that is already claimed makes the whole statement
-- fail (unique violation), so a retry can never buy twice.
-- The buyer's token must still be valid (its account exists, at :token_version): this
-- is the revocation check other routes run before the view, folded in to save a round trip.
-- Under READ COMMITTED a buyer that waited for the event row re-checks the WHERE against
-- the newest version (EvalPlanQual), so concurrent buyers can never oversell.
WITH sold AS (
    UPDATE events
       SET remaining = remaining - :'quantity'::int
     WHERE id = :'event_id'::uuid
       AND remaining >= :'quantity'::int
       AND max_per_order >= :'quantity'::int
       AND date > now()
       AND deleted_at IS NULL
       AND EXISTS (SELECT 1 FROM users WHERE id = :'user_id'::uuid AND token_version = :'token_version'::int)
    RETURNING id, name, date, price, currency, remaining
), new_order AS (
    INSERT INTO orders (user_id, event_id, quantity, unit_price, total_amount, expires_at, currency)
    SELECT :'user_id'::uuid, sold.id, :'quantity'::int, sold.price, sold.price * :'quantity'::int,
           now() + make_interval(secs => :'hold_seconds'::int), sold.currency
      FROM sold
    RETURNING id, user_id, event_id, quantity, unit_price, total_amount, currency, status, reason,
              expires_at, late_payment_at, created_at, updated_at
), new_tickets AS (
    INSERT INTO tickets (order_id, event_id, price)
    SELECT new_order.id, new_order.event_id, new_order.unit_price
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
SELECT new_order.*,
       json_build_object('id', sold.id, 'name', sold.name, 'date', sold.date) AS event,
       (SELECT json_agg(json_build_object('id', t.id, 'price', t.price::text, 'status', t.status,
                                          'checked_in_at', t.checked_in_at) ORDER BY t.id)
          FROM new_tickets t) AS tickets
  FROM new_order, sold;
