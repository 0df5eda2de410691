-- A user edits their own account; a NULL parameter keeps that field. A new password also
-- bumps token_version, revoking every token issued before it. :'checked_hash' (when
-- given) is the hash the current password was verified against: if it changed meanwhile,
-- nothing is updated. Returns no row when nothing was updated; a taken email
-- (case-insensitively) raises a unique violation.
UPDATE users
   SET name = coalesce(:'name', name),
       email = coalesce(:'email', email),
       password_hash = coalesce(:'password_hash', password_hash),
       token_version = token_version + CASE WHEN :'password_hash'::text IS NULL THEN 0 ELSE 1 END,
       updated_at = now()
 WHERE id = :'id'::uuid
   AND (:'checked_hash'::text IS NULL OR password_hash = :'checked_hash')
RETURNING id, name, email, role, created_at;
