-- Soft-delete an event: it leaves every listing and can no longer be bought, while its
-- orders and tickets stay readable. No row: unknown or already deleted.
UPDATE events
   SET deleted_at = now()
 WHERE id = :'id'::uuid AND deleted_at IS NULL
RETURNING id;
