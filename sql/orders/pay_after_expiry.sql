-- A PAID verdict for an EXPIRED order, in one statement: if the event and the order's
-- ticket type can still hold the tickets (open, not deleted, enough remaining of both),
-- take the capacity back from both and mark the order PAID with its tickets VALID again;
-- either way record the late payment on the order, so support can refund when it could
-- not be honoured. `honoured` says which happened; no row means the order was not
-- EXPIRED (anymore).
-- Lock order as in sql/orders/purchase.sql: the event row (`event`), then the type row
-- (`ticket_type` joins `event`); both re-check remaining at their newest versions.
WITH late AS (
    SELECT id, event_id, ticket_type_id, quantity
      FROM orders
     WHERE id = :'order_id'::uuid AND status = 'EXPIRED'
       FOR UPDATE
), event AS (
    SELECT e.id
      FROM late
      JOIN events e ON e.id = late.event_id
     WHERE e.remaining >= late.quantity
       AND e.date > now()
       AND e.deleted_at IS NULL
       FOR UPDATE OF e
), ticket_type AS (
    SELECT t.id
      FROM late
      JOIN event ON event.id = late.event_id
      JOIN ticket_types t ON t.id = late.ticket_type_id
     WHERE t.remaining >= late.quantity
       FOR UPDATE OF t
), reserved AS (
    UPDATE events e
       SET remaining = e.remaining - late.quantity
      FROM late, ticket_type
     WHERE e.id = late.event_id
    RETURNING late.id, late.ticket_type_id, late.quantity
), type_reserved AS (
    UPDATE ticket_types t
       SET remaining = t.remaining - r.quantity
      FROM reserved r
     WHERE t.id = r.ticket_type_id
    RETURNING t.id
), revived AS (
    UPDATE tickets t
       SET status = 'VALID'
      FROM reserved
     WHERE t.order_id = reserved.id
    RETURNING t.id
), recorded AS (
    UPDATE orders o
       SET late_payment_at = now(),
           reason = coalesce(:'reason', o.reason),
           status = CASE WHEN EXISTS (SELECT 1 FROM reserved) THEN 'PAID' ELSE o.status END,
           updated_at = now()
      FROM late
     WHERE o.id = late.id
    RETURNING o.id, o.status
)
SELECT id, status = 'PAID' AS honoured, (SELECT count(*) FROM revived) AS tickets
  FROM recorded;
