-- After a transfer changed nothing: the ticket's holder, status, order status and event
-- timing, and the recipient's id (NULL: no account with :'email'). No row: no ticket.
SELECT coalesce(t.holder_id, o.user_id) AS holder_id, t.status, t.checked_in_at, t.code_version,
       o.status AS order_status,
       e.date <= now() AS started, e.deleted_at IS NOT NULL AS event_deleted,
       (SELECT id FROM users WHERE lower(email) = lower(:'email')) AS recipient_id
  FROM tickets t
  JOIN orders o ON o.id = t.order_id
  JOIN events e ON e.id = t.event_id
 WHERE t.id = :'id'::uuid;
