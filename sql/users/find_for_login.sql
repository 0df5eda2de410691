-- The account behind a login attempt, with its password hash.
SELECT id, role, password_hash
FROM users
WHERE lower(email) = lower(:'email');
