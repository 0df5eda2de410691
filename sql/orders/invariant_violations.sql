-- Events whose books don't balance: capacity - remaining must equal the tickets of
-- PENDING and PAID orders, and the live (non-cancelled) ticket rows must match them.
-- An empty result means no ticket was oversold or lost.
SELECT e.id, e.capacity, e.remaining,
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
    OR coalesce(o.held, 0) <> coalesce(t.live, 0);
