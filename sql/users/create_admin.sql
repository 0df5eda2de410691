-- Create an admin account, unless the email is taken (case-insensitively): then the
-- existing account as it is. `created` says which; an existing account is never changed
-- here (promoting one is sql/users/promote_to_admin.sql, on the operator's explicit word).
-- No row only if another session created this email at the same moment: run it again.
WITH created AS (
    INSERT INTO users (name, email, password_hash, role)
    VALUES (:'name', :'email', :'password_hash', 'admin')
    ON CONFLICT (lower(email)) DO NOTHING
    RETURNING id, name, email, role, created_at
)
SELECT id, name, email, role, created_at, true AS created FROM created
UNION ALL
SELECT id, name, email, role, created_at, false AS created
FROM users
WHERE lower(email) = lower(:'email')
  AND NOT EXISTS (SELECT 1 FROM created);
