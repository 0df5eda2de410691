-- migrate:up
-- Payments you can trust (docs/payments.md): currencies, a ledger of the money received,
-- every payment-webhook delivery with its answer, and REFUNDED orders.

-- An event's currency (ISO 4217); its orders copy it when they are sold.
ALTER TABLE events ADD COLUMN currency text NOT NULL DEFAULT 'BRL'
    CONSTRAINT events_currency_check CHECK (currency ~ '^[A-Z]{3}$');
ALTER TABLE orders ADD COLUMN currency text NOT NULL DEFAULT 'BRL'
    CONSTRAINT orders_currency_check CHECK (currency ~ '^[A-Z]{3}$');
UPDATE orders o SET currency = e.currency FROM events e WHERE e.id = o.event_id AND o.currency <> e.currency;
-- The purchase always names it: no silent default for new orders.
ALTER TABLE orders ALTER COLUMN currency DROP DEFAULT;

ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('PENDING', 'PAID', 'REJECTED', 'EXPIRED', 'CANCELLED', 'REFUNDED'));

-- Every payment-webhook delivery that reached an order, with the answer it got. A provider
-- payment id is claimed by its first delivery (unique): later deliveries with the same id
-- get that first answer again, or payment-id-reused if they name another order.
CREATE TABLE payment_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id        uuid NOT NULL REFERENCES orders (id),
    payment_id      text CHECK (char_length(payment_id) BETWEEN 1 AND 255),
    status          text NOT NULL CHECK (status IN ('PAID', 'REJECTED')),
    amount          numeric(14, 2),
    currency        text,
    reason          text,
    response_status integer,
    response_body   jsonb,
    received_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX payment_deliveries_payment_id_key ON payment_deliveries (payment_id);
CREATE INDEX payment_deliveries_order_idx ON payment_deliveries (order_id, received_at);

-- The ledger: money the provider says it took. `captured` pays an order; `refund_due`
-- must go back to the buyer (a refunded order, or a payment that could not be honoured);
-- `refunded` went back.
CREATE TABLE payments (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id    uuid NOT NULL REFERENCES orders (id),
    payment_id  text CHECK (char_length(payment_id) BETWEEN 1 AND 255),
    amount      numeric(14, 2) NOT NULL CHECK (amount >= 0),
    currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    state       text NOT NULL CHECK (state IN ('captured', 'refund_due', 'refunded')),
    received_at timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    refunded_at timestamptz,
    CONSTRAINT payments_refunded_at CHECK ((state = 'refunded') = (refunded_at IS NOT NULL))
);
CREATE UNIQUE INDEX payments_payment_id_key ON payments (payment_id);
CREATE INDEX payments_order_idx ON payments (order_id);
-- GET /payments?state=..., oldest first.
CREATE INDEX payments_state_idx ON payments (state, received_at, id);

-- Money received before the ledger existed: PAID orders were captured; late payments
-- that could not be honoured (EXPIRED with late_payment_at) are due back.
INSERT INTO payments (order_id, amount, currency, state, received_at)
SELECT id, total_amount, currency, 'captured', updated_at FROM orders WHERE status = 'PAID';
INSERT INTO payments (order_id, amount, currency, state, received_at)
SELECT id, total_amount, currency, 'refund_due', late_payment_at
  FROM orders WHERE status = 'EXPIRED' AND late_payment_at IS NOT NULL;

-- migrate:down
DROP TABLE payments;
DROP TABLE payment_deliveries;
UPDATE orders SET status = 'CANCELLED' WHERE status = 'REFUNDED';
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('PENDING', 'PAID', 'REJECTED', 'EXPIRED', 'CANCELLED'));
ALTER TABLE orders DROP COLUMN currency;
ALTER TABLE events DROP COLUMN currency;
