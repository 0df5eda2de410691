-- Orders by id (one for GET /orders/{id}, several for the outgoing webhooks that announce
-- them) with their ticket type's name, event summary and tickets, each with its holder (a
-- transfer's recipient, else the buyer) and code version (ownership is checked by the caller).
SELECT o.id, o.user_id, o.event_id, o.ticket_type_id, tt.name AS ticket_type_name, o.quantity, o.unit_price,
       o.total_amount, o.currency, o.status,
       o.reason, o.expires_at, o.late_payment_at, o.created_at, o.updated_at,
       json_build_object('id', e.id, 'name', e.name, 'date', e.date) AS event,
       (SELECT json_agg(json_build_object('id', t.id, 'price', t.price::text, 'status', t.status,
                                          'checked_in_at', t.checked_in_at,
                                          'holder_id', coalesce(t.holder_id, o.user_id),
                                          'event_id', t.event_id, 'code_version', t.code_version)
                         ORDER BY t.id)
          FROM tickets t WHERE t.order_id = o.id) AS tickets
  FROM orders o
  JOIN events e ON e.id = o.event_id
  JOIN ticket_types tt ON tt.id = o.ticket_type_id
 WHERE o.id = ANY (:'ids'::uuid[]);
