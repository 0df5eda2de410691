-- The payment provider's verdict on a PENDING order, in one statement: PAID just marks
-- it; REJECTED also cancels its tickets and returns their capacity to the event and its
-- ticket type.
-- Lock order as in sql/orders/purchase.sql: the event row, then the type row (the
-- type's UPDATE joins the event's output).
-- Returns no row unless the order was PENDING, so duplicate or racing deliveries can
-- never release capacity twice (the loser re-checks `status = 'PENDING'` after the lock).
WITH settled AS (
    UPDATE orders
       SET status = :'status', reason = :'reason', updated_at = now()
     WHERE id = :'order_id'::uuid AND status = 'PENDING'
    RETURNING id, event_id, ticket_type_id, quantity, status
), cancelled AS (
    UPDATE tickets
       SET status = 'CANCELLED'
      FROM settled
     WHERE tickets.order_id = settled.id AND settled.status = 'REJECTED'
    RETURNING tickets.id
), released AS (
    UPDATE events
       SET remaining = remaining + settled.quantity
      FROM settled
     WHERE events.id = settled.event_id AND settled.status = 'REJECTED'
    RETURNING events.id, settled.ticket_type_id, settled.quantity
), type_released AS (
    UPDATE ticket_types t
       SET remaining = t.remaining + r.quantity
      FROM released r
     WHERE t.id = r.ticket_type_id
    RETURNING t.id
)
SELECT settled.id, settled.status,
       (SELECT count(*) FROM cancelled) AS cancelled_tickets,
       (SELECT count(*) FROM released) AS released_events
  FROM settled;
