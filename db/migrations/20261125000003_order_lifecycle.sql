-- migrate:up
-- Holds that expire, buyer cancellation, late payments, idempotent purchases.
ALTER TABLE orders
    ADD COLUMN expires_at timestamptz,
    ADD COLUMN late_payment_at timestamptz;
UPDATE orders SET expires_at = created_at + interval '900 seconds';
ALTER TABLE orders ALTER COLUMN expires_at SET NOT NULL;

ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('PENDING', 'PAID', 'REJECTED', 'EXPIRED', 'CANCELLED'));

-- The expiry sweep: due PENDING holds, oldest first; small because holds don't last.
CREATE INDEX orders_pending_expiry_idx ON orders (expires_at) WHERE status = 'PENDING';

-- A purchase's Idempotency-Key, claimed in the same statement that creates its order
-- (order_id set), or recorded with the error it got (order_id null, response stored).
CREATE TABLE idempotency_keys (
    user_id         uuid NOT NULL REFERENCES users (id),
    key             text NOT NULL CHECK (key ~ '^[\x21-\x7e]{1,255}$'),
    request_hash    text NOT NULL,
    order_id        uuid REFERENCES orders (id),
    response_status integer,
    response_body   jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key),
    CONSTRAINT idempotency_keys_has_outcome CHECK (order_id IS NOT NULL OR response_body IS NOT NULL)
);
-- Pruning keys older than the retention window.
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- migrate:down
DROP TABLE idempotency_keys;
DROP INDEX orders_pending_expiry_idx;
UPDATE orders SET status = 'REJECTED' WHERE status IN ('EXPIRED', 'CANCELLED');
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('PENDING', 'PAID', 'REJECTED'));
ALTER TABLE orders DROP COLUMN late_payment_at, DROP COLUMN expires_at;
