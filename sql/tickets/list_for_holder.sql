-- A page of the tickets one user holds (GET /me/tickets): tickets of PAID orders that
-- they bought and kept, or that were transferred to them; soonest event first (ties by
-- ticket id). The two halves read different indexes: the buyer's orders
-- (orders_user_idx, tickets_order_idx) and the transferred tickets (tickets_holder_idx).
-- Always returns at least one row, so the total is known even past the last page.
WITH mine AS (
    SELECT t.id
      FROM orders o
      JOIN tickets t ON t.order_id = o.id
     WHERE o.user_id = :'user_id'::uuid AND o.status = 'PAID' AND t.holder_id IS NULL
    UNION ALL
    SELECT t.id
      FROM tickets t
      JOIN orders o ON o.id = t.order_id
     WHERE t.holder_id = :'user_id'::uuid AND o.status = 'PAID'
), page AS (
    SELECT t.id, t.order_id, t.event_id, t.ticket_type_id, tt.name AS ticket_type_name, t.price, t.status, t.checked_in_at,
           coalesce(t.holder_id, o.user_id) AS holder_id, t.code_version, o.status AS order_status,
           json_build_object('id', e.id, 'name', e.name, 'date', e.date) AS event,
           e.date AS event_date
      FROM mine
      JOIN tickets t ON t.id = mine.id
      JOIN orders o ON o.id = t.order_id
      JOIN events e ON e.id = t.event_id
      JOIN ticket_types tt ON tt.id = t.ticket_type_id
     ORDER BY e.date, t.id
     LIMIT :'limit'::int OFFSET :'offset'::int
)
SELECT (SELECT count(*) FROM mine) AS total, page.*
  FROM (SELECT) AS always_one_row
  LEFT JOIN page ON true
 ORDER BY page.event_date, page.id;
