-- Edit one ticket type of an event (admin), in one statement: only the fields given
-- change (max_per_order follows :max_per_order_given; null: the event's). A capacity change moves `remaining` by the same amount and is refused below
-- what is sold of the type (capacity - remaining: tickets of its PENDING and PAID
-- orders). A new price applies to future orders only; on the event's first type it is
-- also the event's new `price`. Lock order as in sql/orders/purchase.sql: the event row
-- (`event`), then the type's (the UPDATE joins `event`).
-- No row: unknown or deleted event, no such type of it, or below sold.
WITH event AS (
    SELECT id, max_per_order
      FROM events
     WHERE id = :'event_id'::uuid AND deleted_at IS NULL
       FOR UPDATE
), updated AS (
    UPDATE ticket_types t
       SET name          = coalesce(:'name', t.name),
           price         = coalesce(:'price'::numeric, t.price),
           capacity      = coalesce(:'capacity'::int, t.capacity),
           remaining     = t.remaining + (coalesce(:'capacity'::int, t.capacity) - t.capacity),
           max_per_order = CASE WHEN :'max_per_order_given'::boolean
                                THEN coalesce(:'max_per_order'::int, event.max_per_order)
                                ELSE t.max_per_order END
      FROM event
     WHERE t.id = :'type_id'::uuid
       AND t.event_id = event.id
       AND coalesce(:'capacity'::int, t.capacity) >= t.capacity - t.remaining
    RETURNING t.id, t.event_id, t.name, t.price, t.capacity, t.remaining, t.max_per_order, t.position
), priced AS (
    UPDATE events e
       SET price = updated.price
      FROM updated
     WHERE e.id = updated.event_id
       AND :'price'::numeric IS NOT NULL
       AND updated.position = (SELECT min(f.position) FROM ticket_types f WHERE f.event_id = e.id)
    RETURNING e.id
)
SELECT id, name, price, capacity, remaining, max_per_order
  FROM updated;
