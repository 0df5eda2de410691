-- Which of the order ids a load tool was answered 201 for are not orders of this event
-- (psql: -v order_ids='{id1,id2}'). An empty result: every recorded sale exists.
SELECT recorded.id
  FROM unnest(:'order_ids'::uuid[]) AS recorded(id)
 WHERE NOT EXISTS (SELECT 1
                     FROM orders o
                    WHERE o.id = recorded.id AND o.event_id = :'event_id'::uuid)
 ORDER BY recorded.id;
