-- Sell :quantity tickets of one event to one user in ONE statement: take the capacity
-- only if enough remains (and the event is open and the quantity allowed), then insert
-- the order and its tickets. All or nothing; returns no row when nothing was sold.
-- Under READ COMMITTED a buyer that waited for the event row re-checks the WHERE against
-- the newest version (EvalPlanQual), so concurrent buyers can never oversell.
WITH sold AS (
    UPDATE events
       SET remaining = remaining - :'quantity'::int
     WHERE id = :'event_id'::uuid
       AND remaining >= :'quantity'::int
       AND max_per_order >= :'quantity'::int
       AND date > now()
       AND deleted_at IS NULL
    RETURNING id, name, date, price
), new_order AS (
    INSERT INTO orders (user_id, event_id, quantity, unit_price, total_amount)
    SELECT :'user_id'::uuid, sold.id, :'quantity'::int, sold.price, sold.price * :'quantity'::int
      FROM sold
    RETURNING id, user_id, event_id, quantity, unit_price, total_amount, status, reason,
              created_at, updated_at
), new_tickets AS (
    INSERT INTO tickets (order_id, event_id, price)
    SELECT new_order.id, new_order.event_id, new_order.unit_price
      FROM new_order, generate_series(1, :'quantity'::int)
    RETURNING id, price, status, checked_in_at
)
SELECT new_order.*,
       json_build_object('id', sold.id, 'name', sold.name, 'date', sold.date) AS event,
       (SELECT json_agg(json_build_object('id', t.id, 'price', t.price::text, 'status', t.status,
                                          'checked_in_at', t.checked_in_at))
          FROM new_tickets t) AS tickets
  FROM new_order, sold;
