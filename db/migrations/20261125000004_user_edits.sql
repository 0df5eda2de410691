-- migrate:up
-- Editing users: a password change bumps token_version, which revokes every access token
-- issued before it (tokens carry the version they were issued at, in their `ver` claim).
ALTER TABLE users
    ADD COLUMN token_version integer NOT NULL DEFAULT 0,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
-- The admin list, oldest first.
CREATE INDEX users_created_idx ON users (created_at, id);

-- migrate:down
DROP INDEX users_created_idx;
ALTER TABLE users DROP COLUMN updated_at, DROP COLUMN token_version;
