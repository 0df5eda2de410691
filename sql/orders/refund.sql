-- Refund a PAID order (run after orders/lock and orders/lock_tickets, in the same
-- transaction, once no ticket is USED), in one statement: the order becomes REFUNDED
-- with the reason, its VALID tickets CANCELLED, their capacity back on sale (event and
-- ticket type, in that lock order as in sql/orders/purchase.sql), and its
-- captured payment `refund_due`. No row: the order was not PAID.
WITH refunded AS (
    UPDATE orders
       SET status = 'REFUNDED', reason = coalesce(:'reason', reason), updated_at = now()
     WHERE id = :'order_id'::uuid AND status = 'PAID'
    RETURNING id, event_id, ticket_type_id
), cancelled AS (
    UPDATE tickets t
       SET status = 'CANCELLED'
      FROM refunded r
     WHERE t.order_id = r.id AND t.status = 'VALID'
    RETURNING t.id
), released AS (
    UPDATE events e
       SET remaining = e.remaining + (SELECT count(*) FROM cancelled)::int
      FROM refunded r
     WHERE e.id = r.event_id
    RETURNING e.id, r.ticket_type_id
), type_released AS (
    UPDATE ticket_types t
       SET remaining = t.remaining + (SELECT count(*) FROM cancelled)::int
      FROM released r
     WHERE t.id = r.ticket_type_id
    RETURNING t.id
), due AS (
    UPDATE payments p
       SET state = 'refund_due', updated_at = now()
      FROM refunded r
     WHERE p.order_id = r.id AND p.state = 'captured'
    RETURNING p.id
)
SELECT r.id,
       (SELECT count(*) FROM cancelled) AS tickets,
       (SELECT count(*) FROM released) AS events,
       (SELECT count(*) FROM due) AS payments
  FROM refunded r;
