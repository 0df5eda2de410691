-- Bring a soft-deleted event back, as it was. No row: unknown or not deleted.
UPDATE events
   SET deleted_at = NULL
 WHERE id = :'id'::uuid AND deleted_at IS NOT NULL
RETURNING id, name, location, organization, rating, date, capacity, remaining, price, currency,
          image_url, description, max_per_order, created_by, created_at,
          sale_starts_at, max_per_user,
          CASE WHEN queue_admit_per_minute IS NULL THEN NULL ELSE json_build_object('admit_per_minute', queue_admit_per_minute, 'pass_seconds', queue_pass_seconds) END AS queue,
          (SELECT json_agg(json_build_object('id', tt.id, 'name', tt.name, 'price', tt.price::text,
                                  'capacity', tt.capacity, 'remaining', tt.remaining,
                                  'max_per_order', tt.max_per_order) ORDER BY tt.position)
          FROM ticket_types tt WHERE tt.event_id = events.id) AS ticket_types;
