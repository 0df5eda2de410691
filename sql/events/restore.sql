-- Bring a soft-deleted event back, as it was. No row: unknown or not deleted.
UPDATE events
   SET deleted_at = NULL
 WHERE id = :'id'::uuid AND deleted_at IS NOT NULL
RETURNING id, name, location, organization, rating, date, capacity, remaining, price, currency,
          image_url, description, max_per_order, created_by, created_at;
