-- One ticket with its event summary and its owner (the order's user); ownership is
-- checked by the caller. Tickets of deleted events stay readable.
SELECT t.id, t.order_id, t.event_id, t.price, t.status, t.checked_in_at, o.user_id,
       json_build_object('id', e.id, 'name', e.name, 'date', e.date) AS event
  FROM tickets t
  JOIN orders o ON o.id = t.order_id
  JOIN events e ON e.id = t.event_id
 WHERE t.id = :'id'::uuid;
