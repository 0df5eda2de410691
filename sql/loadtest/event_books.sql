-- The books of one event after a load test (`flask loadtest verify`): what the event row
-- says is taken, what its live orders hold, what its ticket rows say, its orders by
-- status, how many orders broke max_per_order and how many buyers hold more than
-- max_per_user in PENDING and PAID orders; and the same books per ticket type
-- (`ticket_types`: name, capacity, remaining, held_by_orders, live_tickets). No row: no such event.
SELECT e.id, e.capacity, e.remaining, e.max_per_order, e.max_per_user,
       e.capacity - e.remaining AS taken,
       (SELECT coalesce(sum(o.quantity), 0)
          FROM orders o
         WHERE o.event_id = e.id AND o.status IN ('PENDING', 'PAID')) AS held_by_orders,
       (SELECT count(*)
          FROM tickets t
         WHERE t.event_id = e.id AND t.status <> 'CANCELLED') AS live_tickets,
       (SELECT coalesce(jsonb_object_agg(s.status, s.n), '{}'::jsonb)
          FROM (SELECT o.status, count(*) AS n
                  FROM orders o
                 WHERE o.event_id = e.id
                 GROUP BY o.status) s) AS orders_by_status,
       (SELECT count(*)
          FROM orders o
         WHERE o.event_id = e.id AND o.quantity > e.max_per_order) AS orders_over_limit,
       (SELECT count(*)
          FROM (SELECT o.user_id
                  FROM orders o
                 WHERE o.event_id = e.id AND o.status IN ('PENDING', 'PAID')
                 GROUP BY o.user_id
                HAVING sum(o.quantity) > e.max_per_user) over_limit) AS users_over_limit,
       (SELECT json_agg(json_build_object(
                   'name', tt.name, 'capacity', tt.capacity, 'remaining', tt.remaining,
                   'held_by_orders', (SELECT coalesce(sum(o.quantity), 0) FROM orders o
                                       WHERE o.ticket_type_id = tt.id AND o.status IN ('PENDING', 'PAID')),
                   'live_tickets', (SELECT count(*) FROM tickets t
                                     WHERE t.ticket_type_id = tt.id AND t.status <> 'CANCELLED'))
                 ORDER BY tt.position)
          FROM ticket_types tt WHERE tt.event_id = e.id) AS ticket_types
  FROM events e
 WHERE e.id = :'event_id';
