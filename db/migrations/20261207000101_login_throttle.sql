-- migrate:up
-- Recent login attempts per email, for the growing delay after repeated failures (README:
-- rate limits). Keyed by the email as typed, lower-cased, whether or not an account has
-- it: unknown emails are throttled exactly like known ones, so answers and timing say
-- nothing about which exist. A row is counted before the password is checked
-- (sql/users/claim_login_attempt.sql) and deleted by a correct one; rows older than
-- LOGIN_FAILURE_WINDOW_SECONDS mean nothing and are pruned by the background sweep.
CREATE TABLE login_failures (
    email           text PRIMARY KEY CHECK (email = lower(email)),
    failures        integer NOT NULL CHECK (failures > 0),
    last_failure_at timestamptz NOT NULL
);

-- migrate:down
DROP TABLE login_failures;
