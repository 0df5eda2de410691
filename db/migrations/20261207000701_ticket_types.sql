-- migrate:up
-- Ticket types (docs/ticket-types.md): an event sells 1 to 20 kinds of ticket, each with
-- its own price, capacity, remaining and max_per_order. The event's own capacity and
-- remaining stay the venue's overall cap: a purchase takes from both, in that lock
-- order (the event row, then the type row). Type capacities may add up to more than
-- the event's (a shared pool).
CREATE TABLE ticket_types (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id uuid NOT NULL REFERENCES events (id),
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    price numeric(12,2) NOT NULL CHECK (price >= 0),
    capacity integer NOT NULL CHECK (capacity BETWEEN 0 AND 1000000),
    remaining integer NOT NULL,
    max_per_order integer NOT NULL CHECK (max_per_order BETWEEN 1 AND 100),
    -- the order types are listed in; the first (lowest) one is the event's default and
    -- sets the event's price
    position integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ticket_types_remaining_within_capacity CHECK (remaining >= 0 AND remaining <= capacity),
    CONSTRAINT ticket_types_name_unique UNIQUE (event_id, name),
    CONSTRAINT ticket_types_position_unique UNIQUE (event_id, position)
);

-- Every existing event gets one type, "General", with the event's own numbers: its
-- books balance per type exactly as they did per event.
INSERT INTO ticket_types (event_id, name, price, capacity, remaining, max_per_order, position, created_at)
SELECT id, 'General', price, capacity, remaining, max_per_order, 1, created_at
  FROM events;

ALTER TABLE orders ADD COLUMN ticket_type_id uuid REFERENCES ticket_types (id);
ALTER TABLE tickets ADD COLUMN ticket_type_id uuid REFERENCES ticket_types (id);
UPDATE orders o SET ticket_type_id = t.id FROM ticket_types t WHERE t.event_id = o.event_id;
UPDATE tickets k SET ticket_type_id = t.id FROM ticket_types t WHERE t.event_id = k.event_id;
ALTER TABLE orders ALTER COLUMN ticket_type_id SET NOT NULL;
ALTER TABLE tickets ALTER COLUMN ticket_type_id SET NOT NULL;
-- the foreign keys' checks on a type's DELETE, and the per-type books
CREATE INDEX orders_ticket_type_idx ON orders (ticket_type_id, status);
CREATE INDEX tickets_ticket_type_idx ON tickets (ticket_type_id, status);

-- migrate:down
DROP INDEX tickets_ticket_type_idx;
DROP INDEX orders_ticket_type_idx;
ALTER TABLE tickets DROP COLUMN ticket_type_id;
ALTER TABLE orders DROP COLUMN ticket_type_id;
DROP TABLE ticket_types;
