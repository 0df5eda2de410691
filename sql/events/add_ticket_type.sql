-- Add a ticket type to an event (admin), in one statement: lock the event row first (the
-- lock order of sql/orders/purchase.sql), then insert the type last in the list, all of
-- its capacity for sale; max_per_order null: the event's. Refused (no row) when the event
-- is unknown or deleted, or already has 20 types. A name the event already uses fails on
-- ticket_types_name_unique.
WITH event AS (
    SELECT id, max_per_order
      FROM events
     WHERE id = :'event_id'::uuid AND deleted_at IS NULL
       FOR UPDATE
), shape AS (
    SELECT count(t.id) AS types, coalesce(max(t.position), 0) AS last_position
      FROM event
      LEFT JOIN ticket_types t ON t.event_id = event.id
)
INSERT INTO ticket_types (event_id, name, price, capacity, remaining, max_per_order, position)
SELECT event.id, :'name', :'price'::numeric, :'capacity'::int, :'capacity'::int,
       coalesce(:'max_per_order'::int, event.max_per_order), shape.last_position + 1
  FROM event, shape
 WHERE shape.types < 20
RETURNING id, name, price, capacity, remaining, max_per_order;
