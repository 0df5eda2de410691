-- An admin edits an account; a NULL parameter keeps that field. Demoting an admin only
-- happens while another admin remains: every admin row is locked first, in id order (so
-- concurrent demotions queue instead of deadlocking), and a transaction that waited
-- re-reads the rows it locked, so two admins demoting each other at once cannot both
-- succeed. Returns no row when nothing was updated (no such user, or the last admin);
-- a taken email (case-insensitively) raises a unique violation. The role is read from
-- the database on every request, so a role change needs no token revocation.
WITH admins AS MATERIALIZED (
    SELECT id
    FROM users
    WHERE role = 'admin'
    ORDER BY id
    FOR UPDATE
)
UPDATE users
   SET name = coalesce(:'name', name),
       email = coalesce(:'email', email),
       role = coalesce(:'role', role),
       updated_at = now()
 WHERE id = :'id'::uuid
   AND (role <> 'admin'
        OR coalesce(:'role', role) = 'admin'
        OR (SELECT count(*) FROM admins WHERE admins.id <> :'id'::uuid) > 0)
RETURNING id, name, email, role, created_at;
