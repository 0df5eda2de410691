-- Sign a user up; returns nothing when the email is taken (case-insensitively).
INSERT INTO users (name, email, password_hash, role)
VALUES (:'name', :'email', :'password_hash', :'role')
ON CONFLICT (lower(email)) DO NOTHING
RETURNING id, name, email, role, created_at;
