-- migrate:up
CREATE TABLE orders (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id),
    event_id     uuid NOT NULL REFERENCES events (id),
    quantity     integer NOT NULL CHECK (quantity > 0),
    unit_price   numeric(12, 2) NOT NULL CHECK (unit_price >= 0),
    -- wider than a price: 100 tickets of the dearest event still fit
    total_amount numeric(14, 2) NOT NULL,
    status       text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'PAID', 'REJECTED')),
    reason       text CHECK (char_length(reason) <= 500),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orders_total_is_price_times_quantity CHECK (total_amount = unit_price * quantity),
    -- target of the tickets' composite key: a ticket's event is its order's event
    CONSTRAINT orders_id_event_key UNIQUE (id, event_id)
);
-- "My orders", newest first.
CREATE INDEX orders_user_idx ON orders (user_id, created_at DESC, id);
-- Per-event accounting (invariant check, stats).
CREATE INDEX orders_event_idx ON orders (event_id, status);

CREATE TABLE tickets (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id      uuid NOT NULL,
    event_id      uuid NOT NULL,
    price         numeric(12, 2) NOT NULL CHECK (price >= 0),
    status        text NOT NULL DEFAULT 'VALID' CHECK (status IN ('VALID', 'USED', 'CANCELLED')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    checked_in_at timestamptz,
    CONSTRAINT tickets_order_fkey FOREIGN KEY (order_id, event_id) REFERENCES orders (id, event_id),
    CONSTRAINT tickets_used_iff_checked_in CHECK ((status = 'USED') = (checked_in_at IS NOT NULL))
);
CREATE INDEX tickets_order_idx ON tickets (order_id);
CREATE INDEX tickets_event_idx ON tickets (event_id, status);

-- migrate:down
DROP TABLE tickets;
DROP TABLE orders;
