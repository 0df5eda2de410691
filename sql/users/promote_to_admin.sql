-- Give the existing account with this email the admin role (`create-admin
-- --promote-existing`); its password and tokens are kept. `previous_role` is its role
-- before. No row: there is no such account.
UPDATE users AS u
   SET role = 'admin'
  FROM users AS before
 WHERE before.id = u.id
   AND lower(u.email) = lower(:'email')
RETURNING u.id, u.name, u.email, u.role, u.created_at, before.role AS previous_role;
