-- The waiting room's books of one event after a load test (`flask loadtest verify`): no
-- order without a used pass, no pass used twice or out of its time. Every purchase of an
-- event with a waiting room uses one pass (its entry turns `purchased` in the same
-- statement that inserts the order), so per buyer, the orders placed since the room
-- opened (queue_opened_at) equal the buyer's `purchased` entries. No row: no such event;
-- `queued` false: the event has no waiting room now (nothing else is checked).
-- Offending buyers are listed, at most :'limit' each.
WITH event AS (
    SELECT id, queue_admit_per_minute IS NOT NULL AS queued, queue_opened_at
      FROM events
     WHERE id = :'event_id'::uuid
), orders_by_buyer AS (
    SELECT o.user_id, count(*) AS orders
      FROM orders o, event
     WHERE o.event_id = event.id AND o.created_at >= event.queue_opened_at
     GROUP BY o.user_id
), passes_by_buyer AS (
    SELECT q.user_id, count(*) AS passes
      FROM queue_entries q, event
     WHERE q.event_id = event.id AND q.status = 'purchased'
     GROUP BY q.user_id
), buyers AS (
    SELECT coalesce(o.user_id, p.user_id) AS user_id,
           coalesce(o.orders, 0) AS orders, coalesce(p.passes, 0) AS passes
      FROM orders_by_buyer o
      FULL JOIN passes_by_buyer p ON p.user_id = o.user_id
)
SELECT event.queued,
       (SELECT coalesce(sum(orders), 0) FROM buyers) AS orders,
       (SELECT coalesce(sum(passes), 0) FROM buyers) AS used_passes,
       (SELECT count(*) FROM queue_entries q WHERE q.event_id = event.id) AS entries,
       (SELECT coalesce(jsonb_object_agg(s.status, s.n), '{}'::jsonb)
          FROM (SELECT q.status, count(*) AS n FROM queue_entries q
                 WHERE q.event_id = event.id GROUP BY q.status) s) AS entries_by_status,
       -- more orders than used passes: an order placed without a pass
       (SELECT count(*) FROM buyers WHERE orders > passes) AS buyers_without_pass,
       (SELECT array_agg(user_id::text ORDER BY user_id)
          FROM (SELECT user_id FROM buyers WHERE orders > passes
                 ORDER BY user_id LIMIT :'limit'::int) s) AS shown_without_pass,
       -- more used passes than orders: a pass spent on no order (or on one since deleted)
       (SELECT count(*) FROM buyers WHERE passes > orders) AS buyers_with_unspent_pass,
       (SELECT array_agg(user_id::text ORDER BY user_id)
          FROM (SELECT user_id FROM buyers WHERE passes > orders
                 ORDER BY user_id LIMIT :'limit'::int) s) AS shown_unspent_pass,
       -- a pass on two entries (the unique index forbids it; checked all the same)
       (SELECT count(*)
          FROM (SELECT q.pass FROM queue_entries q
                 WHERE q.event_id = event.id AND q.pass IS NOT NULL
                 GROUP BY q.pass HAVING count(*) > 1) d) AS passes_on_several_entries,
       -- used outside its validity: before admission or after it expired
       (SELECT count(*)
          FROM queue_entries q
         WHERE q.event_id = event.id AND q.status = 'purchased'
           AND NOT (q.purchased_at BETWEEN q.admitted_at AND q.pass_expires_at)) AS passes_used_out_of_time
  FROM event;
