-- Events and ticket types whose books don't balance: for each event, and for each of its
-- ticket types, capacity - remaining must equal the tickets of PENDING and PAID orders,
-- and the live (non-cancelled) ticket rows must match them. `kind` says which ('event'
-- or 'ticket_type'; `id` is that row's). An empty result means no ticket was oversold
-- or lost, in total or of any type.
SELECT 'event' AS kind, e.id, e.capacity, e.remaining,
       e.capacity - e.remaining AS taken,
       coalesce(o.held, 0) AS held_by_orders,
       coalesce(t.live, 0) AS live_tickets
  FROM events e
  LEFT JOIN (SELECT event_id, sum(quantity) AS held
               FROM orders
              WHERE status IN ('PENDING', 'PAID')
              GROUP BY event_id) o ON o.event_id = e.id
  LEFT JOIN (SELECT event_id, count(*) AS live
               FROM tickets
              WHERE status <> 'CANCELLED'
              GROUP BY event_id) t ON t.event_id = e.id
 WHERE e.capacity - e.remaining <> coalesce(o.held, 0)
    OR coalesce(o.held, 0) <> coalesce(t.live, 0)
UNION ALL
SELECT 'ticket_type' AS kind, tt.id, tt.capacity, tt.remaining,
       tt.capacity - tt.remaining AS taken,
       coalesce(o.held, 0) AS held_by_orders,
       coalesce(t.live, 0) AS live_tickets
  FROM ticket_types tt
  LEFT JOIN (SELECT ticket_type_id, sum(quantity) AS held
               FROM orders
              WHERE status IN ('PENDING', 'PAID')
              GROUP BY ticket_type_id) o ON o.ticket_type_id = tt.id
  LEFT JOIN (SELECT ticket_type_id, count(*) AS live
               FROM tickets
              WHERE status <> 'CANCELLED'
              GROUP BY ticket_type_id) t ON t.ticket_type_id = tt.id
 WHERE tt.capacity - tt.remaining <> coalesce(o.held, 0)
    OR coalesce(o.held, 0) <> coalesce(t.live, 0);
