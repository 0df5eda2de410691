-- The buyer cancels their own PENDING order, in one statement: the order becomes
-- CANCELLED, its tickets CANCELLED, and its capacity returns to the event and to its
-- ticket type.
-- Lock order as in sql/orders/purchase.sql: the event row, then the type row (the
-- type's UPDATE joins the event's output).
-- Returns no row unless the caller owns the order and it was PENDING.
WITH cancelled_order AS (
    UPDATE orders
       SET status = 'CANCELLED', updated_at = now()
     WHERE id = :'order_id'::uuid AND user_id = :'user_id'::uuid AND status = 'PENDING'
    RETURNING id, event_id, ticket_type_id, quantity
), cancelled_tickets AS (
    UPDATE tickets t
       SET status = 'CANCELLED'
      FROM cancelled_order c
     WHERE t.order_id = c.id
    RETURNING t.id
), released AS (
    UPDATE events e
       SET remaining = e.remaining + c.quantity
      FROM cancelled_order c
     WHERE e.id = c.event_id
    RETURNING e.id, c.ticket_type_id, c.quantity
), type_released AS (
    UPDATE ticket_types t
       SET remaining = t.remaining + r.quantity
      FROM released r
     WHERE t.id = r.ticket_type_id
    RETURNING t.id
), announced AS (  -- order.cancelled, for subscribed webhook endpoints
    INSERT INTO webhook_deliveries (endpoint_id, type, subject_id)
    SELECT ep.id, 'order.cancelled', c.id
      FROM cancelled_order c
      JOIN webhook_endpoints ep ON ep.disabled_at IS NULL AND 'order.cancelled' = ANY (ep.events)
)
SELECT c.id, (SELECT count(*) FROM cancelled_tickets) AS tickets
  FROM cancelled_order c;
