-- What every authenticated request checks against its token: the account's current role
-- (so a promotion or demotion takes effect at once) and token version (a token issued
-- before the last password change is revoked). No row: the account no longer exists.
SELECT role, token_version
FROM users
WHERE id = :'id'::uuid;
