-- migrate:up
-- Outgoing webhooks (docs/webhooks.md): endpoints that subscribe to event types, and the
-- outbox: one delivery row per (event, subscribed endpoint), written by the same statement
-- or transaction as the change that causes the event, and sent from the database by every
-- worker of every instance (FOR UPDATE SKIP LOCKED).
CREATE TABLE webhook_endpoints (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    url         text NOT NULL CHECK (char_length(url) <= 2048),
    events      text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 20),
    secret      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);

CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    -- the event: its id is the body's `id` and the Webhook-Id header (consumers dedupe on it)
    event_id        uuid NOT NULL DEFAULT gen_random_uuid(),
    type            text NOT NULL,
    subject_id      uuid NOT NULL,  -- the order, ticket or event it is about
    data            jsonb,          -- the body's `data`, fixed by the first attempt
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    last_status     integer,        -- the receiver's HTTP status, null: no answer
    last_error      text,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    retry_from      timestamptz NOT NULL DEFAULT now(),  -- retries stop WEBHOOK_RETRY_HOURS after
    delivered_at    timestamptz,
    failed_at       timestamptz
);
-- The delivery loop: due deliveries, soonest first; small, since delivered rows leave it.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
-- An endpoint's delivery log, newest first.
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at DESC, id);

-- migrate:down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
