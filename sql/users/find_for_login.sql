-- The account behind a login attempt, with its password hash and the token version a
-- new token carries.
SELECT id, role, password_hash, token_version
FROM users
WHERE lower(email) = lower(:'email');
