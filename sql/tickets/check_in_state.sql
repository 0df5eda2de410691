-- After a check-in changed nothing: does the ticket exist, what is its status, first
-- check-in time, event and code version, and is its order paid? One read by primary keys.
SELECT t.status, t.checked_in_at, t.event_id, t.code_version, o.status AS order_status
  FROM tickets t
  JOIN orders o ON o.id = t.order_id
 WHERE t.id = :'id'::uuid;
