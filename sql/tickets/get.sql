-- One ticket with its event summary, its holder (a transfer's recipient, else the
-- order's buyer), its code version and its order's status (whether a code is shown);
-- who may see it is checked by the caller. Tickets of deleted events stay readable.
SELECT t.id, t.order_id, t.event_id, t.ticket_type_id, tt.name AS ticket_type_name, t.price, t.status, t.checked_in_at,
       coalesce(t.holder_id, o.user_id) AS holder_id, t.code_version, o.status AS order_status,
       json_build_object('id', e.id, 'name', e.name, 'date', e.date) AS event
  FROM tickets t
  JOIN orders o ON o.id = t.order_id
  JOIN events e ON e.id = t.event_id
  JOIN ticket_types tt ON tt.id = t.ticket_type_id
 WHERE t.id = :'id'::uuid;
