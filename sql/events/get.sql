-- One event that has not been deleted.
SELECT id, name, location, organization, rating, date, capacity, remaining, price, currency,
       image_url, description, max_per_order, created_by, created_at,
       sale_starts_at, max_per_user,
       CASE WHEN queue_admit_per_minute IS NULL THEN NULL ELSE json_build_object('admit_per_minute', queue_admit_per_minute, 'pass_seconds', queue_pass_seconds) END AS queue
FROM events
WHERE id = :'id'::uuid AND deleted_at IS NULL;
