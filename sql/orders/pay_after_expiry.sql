-- A PAID verdict for an EXPIRED order, in one statement: if the event can still hold the
-- tickets (open, not deleted, enough remaining), take the capacity back and mark the order
-- PAID with its tickets VALID again; either way record the late payment on the order, so
-- support can refund when it could not be honoured. `honoured` says which happened;
-- no row means the order was not EXPIRED (anymore).
WITH late AS (
    SELECT id, event_id, quantity
      FROM orders
     WHERE id = :'order_id'::uuid AND status = 'EXPIRED'
       FOR UPDATE
), reserved AS (
    UPDATE events e
       SET remaining = e.remaining - late.quantity
      FROM late
     WHERE e.id = late.event_id
       AND e.remaining >= late.quantity
       AND e.date > now()
       AND e.deleted_at IS NULL
    RETURNING late.id
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
