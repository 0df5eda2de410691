-- migrate:up
CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    email         text NOT NULL CHECK (email = btrim(email) AND char_length(email) BETWEEN 3 AND 254),
    password_hash text NOT NULL,
    role          text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    created_at    timestamptz NOT NULL DEFAULT now()
);
-- Emails are unique whatever their case.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

-- fillfactor leaves room on each page so the hot `remaining` update stays a HOT update;
-- `remaining` is deliberately in no index for the same reason.
CREATE TABLE events (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    location      text NOT NULL CHECK (char_length(location) BETWEEN 1 AND 200),
    organization  text NOT NULL CHECK (char_length(organization) BETWEEN 1 AND 200),
    rating        text NOT NULL CHECK (char_length(rating) BETWEEN 1 AND 10),
    date          timestamptz NOT NULL,
    capacity      integer NOT NULL CHECK (capacity BETWEEN 1 AND 1000000),
    remaining     integer NOT NULL,
    price         numeric(12, 2) NOT NULL CHECK (price >= 0),
    image_url     text CHECK (char_length(image_url) <= 2048),
    description   text CHECK (char_length(description) <= 5000),
    max_per_order integer NOT NULL CHECK (max_per_order BETWEEN 1 AND 100),
    created_by    uuid NOT NULL REFERENCES users (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz,
    CONSTRAINT events_remaining_within_capacity CHECK (remaining BETWEEN 0 AND capacity)
) WITH (fillfactor = 70);

-- Public listing: upcoming (not deleted) events, soonest first.
CREATE INDEX events_listing_idx ON events (date, id) WHERE deleted_at IS NULL;
-- "My events": by creator, newest first.
CREATE INDEX events_created_by_idx ON events (created_by, created_at DESC, id);

-- migrate:down
DROP TABLE events;
DROP TABLE users;
