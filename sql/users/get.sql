-- One user, without the password hash.
SELECT id, name, email, role, created_at
FROM users
WHERE id = :'id'::uuid;
