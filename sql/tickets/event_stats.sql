-- One (not deleted) event's ticket counts, in one statement: sold = tickets held by
-- PENDING and PAID orders (always capacity - remaining), split into pending and paid;
-- checked_in = USED tickets; cancelled = tickets of rejected, expired, cancelled or refunded
-- orders. Both sides read the (event_id, status) indexes of orders and tickets.
SELECT e.id AS event_id, e.capacity, e.remaining,
       o.pending + o.paid AS sold, o.pending, o.paid,
       t.checked_in, t.cancelled
  FROM events e
 CROSS JOIN LATERAL (
        SELECT coalesce(sum(quantity) FILTER (WHERE status = 'PENDING'), 0)::int AS pending,
               coalesce(sum(quantity) FILTER (WHERE status = 'PAID'), 0)::int AS paid
          FROM orders
         WHERE event_id = e.id AND status IN ('PENDING', 'PAID')
       ) o
 CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE status = 'USED')::int AS checked_in,
               count(*) FILTER (WHERE status = 'CANCELLED')::int AS cancelled
          FROM tickets
         WHERE event_id = e.id AND status IN ('USED', 'CANCELLED')
       ) t
 WHERE e.id = :'id'::uuid AND e.deleted_at IS NULL;
