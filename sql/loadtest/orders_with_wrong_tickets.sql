-- Orders of one event whose live (non-cancelled) tickets do not match their state: a
-- PENDING or PAID order has exactly `quantity` of them, any other order none. At most
-- :'limit' rows, for the report.
SELECT o.id, o.status, o.quantity,
       count(t.id) FILTER (WHERE t.status <> 'CANCELLED') AS live_tickets
  FROM orders o
  LEFT JOIN tickets t ON t.order_id = o.id
 WHERE o.event_id = :'event_id'
 GROUP BY o.id
HAVING count(t.id) FILTER (WHERE t.status <> 'CANCELLED')
       <> CASE WHEN o.status IN ('PENDING', 'PAID') THEN o.quantity ELSE 0 END
 ORDER BY o.id
 LIMIT :'limit'::int;
