-- Expire PENDING holds whose time is up, in one statement: the orders become EXPIRED,
-- their tickets CANCELLED, and their capacity returns to the events and their ticket
-- types. SKIP LOCKED lets several app instances sweep at once without waiting on each
-- other or on a webhook that is settling the same order; each hold is released exactly
-- once because only rows still PENDING under our lock are touched.
--
-- Lock order: the events' rows first, all of them, in id order (`locked_events`, before
-- any order changes: an order's status change moves its buyer's holdings row through a
-- trigger, and a purchase locks the event before the holdings row), then the orders'
-- holdings, then the types (joined to `released`: a type row is locked only once its
-- event's is). Two sweeps releasing holds of the same events therefore wait for each
-- other in one order and never deadlock (tests/test_lifecycle.py).
WITH due AS (
    SELECT id, event_id
      FROM orders
     WHERE status = 'PENDING' AND expires_at <= now()
     ORDER BY expires_at
     LIMIT :'batch_size'::int
       FOR UPDATE SKIP LOCKED
), locked_events AS (
    SELECT e.id
      FROM events e
     WHERE e.id IN (SELECT event_id FROM due)
     ORDER BY e.id
       FOR NO KEY UPDATE
), expired AS (
    -- joins locked_events: an order changes only once its event's row is locked
    UPDATE orders o
       SET status = 'EXPIRED', updated_at = now()
      FROM due
      JOIN locked_events le ON le.id = due.event_id
     WHERE o.id = due.id AND o.status = 'PENDING'
    RETURNING o.id, o.event_id, o.ticket_type_id, o.quantity
), cancelled AS (
    UPDATE tickets t
       SET status = 'CANCELLED'
      FROM expired
     WHERE t.order_id = expired.id
    RETURNING t.id
), released AS (
    UPDATE events e
       SET remaining = e.remaining + r.quantity
      FROM (SELECT event_id, sum(quantity)::int AS quantity FROM expired GROUP BY event_id) r
     WHERE e.id = r.event_id
    RETURNING e.id
), announced AS (  -- order.expired, for subscribed webhook endpoints
    INSERT INTO webhook_deliveries (endpoint_id, type, subject_id)
    SELECT ep.id, 'order.expired', expired.id
      FROM expired
      JOIN webhook_endpoints ep ON ep.disabled_at IS NULL AND 'order.expired' = ANY (ep.events)
), type_released AS (
    -- joins `released`: a type row is locked only once its event's row is
    UPDATE ticket_types t
       SET remaining = t.remaining + r.quantity
      FROM (SELECT event_id, ticket_type_id, sum(quantity)::int AS quantity
              FROM expired GROUP BY event_id, ticket_type_id) r
      JOIN released ON released.id = r.event_id
     WHERE t.id = r.ticket_type_id
    RETURNING t.id
)
SELECT (SELECT count(*) FROM expired) AS orders,
       (SELECT count(*) FROM cancelled) AS tickets,
       (SELECT count(*) FROM released) AS events;
