-- Point an event at its newly uploaded image and say which stored object that replaces
-- (old_image_key, null if none), so the caller can delete it once this has committed.
-- The subquery locks the row: of two uploads racing for one event, the later one reads
-- the earlier one's key as its old key, so no object is left behind.
-- No row: unknown or deleted event.
UPDATE events AS e
   SET image_url = :'image_url',
       image_key = :'image_key'
  FROM (SELECT id, image_key
          FROM events
         WHERE id = :'id'::uuid AND deleted_at IS NULL
           FOR UPDATE) AS old
 WHERE e.id = old.id
RETURNING old.image_key AS old_image_key,
          e.id, e.name, e.location, e.organization, e.rating, e.date, e.capacity, e.remaining,
          e.price, e.currency, e.image_url, e.description, e.max_per_order, e.created_by, e.created_at,
          e.sale_starts_at, e.max_per_user,
          CASE WHEN e.queue_admit_per_minute IS NULL THEN NULL ELSE json_build_object('admit_per_minute', e.queue_admit_per_minute, 'pass_seconds', e.queue_pass_seconds) END AS queue,
          (SELECT json_agg(json_build_object('id', tt.id, 'name', tt.name, 'price', tt.price::text,
                                  'capacity', tt.capacity, 'remaining', tt.remaining,
                                  'max_per_order', tt.max_per_order) ORDER BY tt.position)
          FROM ticket_types tt WHERE tt.event_id = e.id) AS ticket_types;
