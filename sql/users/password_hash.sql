-- The password hash a sensitive self-service edit (email, password) is checked against.
SELECT password_hash
FROM users
WHERE id = :'id'::uuid;
