-- Delete one ticket type of an event (admin), in one statement, only while no order was
-- ever placed for it (orders and tickets keep their type for good) and it is not the
-- event's last type. When it was the first type, the next one becomes the default and
-- its price the event's price. Lock order as in sql/orders/purchase.sql: the event row
-- first. A purchase that committed while this waited for the event's lock is not in this
-- statement's snapshot: the orders' foreign key then refuses the DELETE.
-- No row: unknown or deleted event, no such type of it, in use, or the last one
-- (sql/events/ticket_type_state.sql says which).
WITH event AS (
    SELECT id
      FROM events
     WHERE id = :'event_id'::uuid AND deleted_at IS NULL
       FOR UPDATE
), deleted AS (
    DELETE FROM ticket_types t
     USING event
     WHERE t.id = :'type_id'::uuid
       AND t.event_id = event.id
       AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.ticket_type_id = t.id)
       AND EXISTS (SELECT 1 FROM ticket_types other WHERE other.event_id = t.event_id AND other.id <> t.id)
    RETURNING t.id, t.event_id
), repriced AS (
    UPDATE events e
       SET price = (SELECT f.price FROM ticket_types f
                     WHERE f.event_id = e.id AND f.id <> deleted.id
                     ORDER BY f.position LIMIT 1)
      FROM deleted
     WHERE e.id = deleted.event_id
    RETURNING e.id
)
SELECT id FROM deleted;
