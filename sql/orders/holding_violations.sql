-- Holdings that disagree with the orders: each (event, user) counter must equal the
-- tickets of that user's PENDING and PAID orders for that event (the per-user limit
-- reads the counter). An empty result means the counters are right.
SELECT coalesce(h.event_id, o.event_id) AS event_id, coalesce(h.user_id, o.user_id) AS user_id,
       coalesce(h.tickets, 0) AS counted, coalesce(o.held, 0) AS held_by_orders
  FROM holdings h
  FULL JOIN (SELECT event_id, user_id, sum(quantity) AS held
               FROM orders
              WHERE status IN ('PENDING', 'PAID')
              GROUP BY event_id, user_id) o ON o.event_id = h.event_id AND o.user_id = h.user_id
 WHERE coalesce(h.tickets, 0) <> coalesce(o.held, 0);
