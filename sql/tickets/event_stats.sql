-- One (not deleted) event's ticket counts, in one statement: sold = tickets held by
-- PENDING and PAID orders (always capacity - remaining), split into pending and paid;
-- checked_in = USED tickets; cancelled = tickets of rejected, expired, cancelled or refunded
-- orders. Both sides read the (event_id, status) indexes of orders and tickets.
-- ticket_types: the same counts per ticket type (first type first), each with its own
-- capacity and remaining (sold = its capacity - remaining).
WITH o AS (
    SELECT ticket_type_id,
           coalesce(sum(quantity) FILTER (WHERE status = 'PENDING'), 0)::int AS pending,
           coalesce(sum(quantity) FILTER (WHERE status = 'PAID'), 0)::int AS paid
      FROM orders
     WHERE event_id = :'id'::uuid AND status IN ('PENDING', 'PAID')
     GROUP BY ticket_type_id
), t AS (
    SELECT ticket_type_id,
           count(*) FILTER (WHERE status = 'USED')::int AS checked_in,
           count(*) FILTER (WHERE status = 'CANCELLED')::int AS cancelled
      FROM tickets
     WHERE event_id = :'id'::uuid AND status IN ('USED', 'CANCELLED')
     GROUP BY ticket_type_id
)
SELECT e.id AS event_id, e.capacity, e.remaining,
       coalesce((SELECT sum(pending + paid) FROM o), 0)::int AS sold,
       coalesce((SELECT sum(pending) FROM o), 0)::int AS pending,
       coalesce((SELECT sum(paid) FROM o), 0)::int AS paid,
       coalesce((SELECT sum(checked_in) FROM t), 0)::int AS checked_in,
       coalesce((SELECT sum(cancelled) FROM t), 0)::int AS cancelled,
       (SELECT json_agg(json_build_object(
                   'ticket_type_id', tt.id, 'name', tt.name, 'capacity', tt.capacity,
                   'remaining', tt.remaining,
                   'sold', coalesce(o.pending + o.paid, 0), 'pending', coalesce(o.pending, 0),
                   'paid', coalesce(o.paid, 0), 'checked_in', coalesce(t.checked_in, 0),
                   'cancelled', coalesce(t.cancelled, 0)) ORDER BY tt.position)
          FROM ticket_types tt
          LEFT JOIN o ON o.ticket_type_id = tt.id
          LEFT JOIN t ON t.ticket_type_id = tt.id
         WHERE tt.event_id = e.id) AS ticket_types
  FROM events e
 WHERE e.id = :'id'::uuid AND e.deleted_at IS NULL;
