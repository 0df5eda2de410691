-- A page of one user's orders, newest first (ties by id), each with event and tickets
-- (with their holder: a transfer's recipient, else the buyer; and code version).
-- Always returns at least one row, so the total is known even past the last page.
WITH page AS (
    SELECT o.id, o.user_id, o.event_id, o.ticket_type_id, o.quantity, o.unit_price, o.total_amount, o.currency, o.status,
           o.reason, o.expires_at, o.late_payment_at, o.created_at, o.updated_at
      FROM orders o
     WHERE o.user_id = :'user_id'::uuid
     ORDER BY o.created_at DESC, o.id
     LIMIT :'limit'::int OFFSET :'offset'::int
)
SELECT (SELECT count(*) FROM orders WHERE user_id = :'user_id'::uuid) AS total,
       page.*, tt.name AS ticket_type_name,
       json_build_object('id', e.id, 'name', e.name, 'date', e.date) AS event,
       (SELECT json_agg(json_build_object('id', t.id, 'price', t.price::text, 'status', t.status,
                                          'checked_in_at', t.checked_in_at,
                                          'holder_id', coalesce(t.holder_id, page.user_id),
                                          'event_id', t.event_id, 'code_version', t.code_version)
                         ORDER BY t.id)
          FROM tickets t WHERE t.order_id = page.id) AS tickets
  FROM (SELECT) AS always_one_row
  LEFT JOIN page ON true
  LEFT JOIN events e ON e.id = page.event_id
  LEFT JOIN ticket_types tt ON tt.id = page.ticket_type_id
 ORDER BY page.created_at DESC, page.id;
