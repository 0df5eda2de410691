-- After a ticket type edit or delete changed nothing: does the (not deleted) event have
-- this type, how much of it is sold (capacity - remaining), how many orders were ever
-- placed for it, and how many types has the event? No row: no such type of such an event.
SELECT t.id, t.capacity, t.remaining, t.capacity - t.remaining AS sold,
       (SELECT count(*) FROM orders o WHERE o.ticket_type_id = t.id) AS orders,
       (SELECT count(*) FROM ticket_types f WHERE f.event_id = t.event_id) AS types
  FROM ticket_types t
  JOIN events e ON e.id = t.event_id AND e.deleted_at IS NULL
 WHERE t.id = :'type_id'::uuid AND t.event_id = :'event_id'::uuid;
