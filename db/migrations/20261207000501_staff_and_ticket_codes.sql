-- migrate:up
-- Door staff: a third role that may read tickets and check them in (docs/tickets.md).
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('user', 'staff', 'admin'));

-- Signed ticket codes carry (ticket id, event id, code_version); the version goes up when
-- the ticket changes hands, which revokes every older code. Codes are not stored: the app
-- signs them when it shows a ticket (ticketing/tickets/codes.py). Two bytes in the code.
ALTER TABLE tickets
    ADD COLUMN code_version integer NOT NULL DEFAULT 1 CHECK (code_version BETWEEN 1 AND 65535);
-- GET /events/{id}/revoked-codes: the few tickets of an event whose older codes are revoked.
CREATE INDEX tickets_revoked_codes_idx ON tickets (event_id, id) WHERE code_version > 1;

-- migrate:down
DROP INDEX tickets_revoked_codes_idx;
ALTER TABLE tickets DROP COLUMN code_version;
UPDATE users SET role = 'user' WHERE role = 'staff';
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('user', 'admin'));
