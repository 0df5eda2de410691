-- Create an admin, or promote the existing account with this email (its password is kept).
INSERT INTO users (name, email, password_hash, role)
VALUES (:'name', :'email', :'password_hash', 'admin')
ON CONFLICT (lower(email)) DO UPDATE SET role = 'admin'
RETURNING id, name, email, role, created_at, (xmax = 0) AS created;
