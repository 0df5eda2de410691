-- One event that has not been deleted.
SELECT id, name, location, organization, rating, date, capacity, remaining, price, currency,
       image_url, description, max_per_order, created_by, created_at
FROM events
WHERE id = :'id'::uuid AND deleted_at IS NULL;
