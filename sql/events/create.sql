-- Publish an event with its ticket types, in one statement; all of the capacity is
-- still for sale. :ticket_types is a JSON array of {name, price, capacity,
-- max_per_order (null: the event's)}, first type first (the service gives one "General"
-- type with the event's price and capacity when the request names none); the event's
-- price is its first type's.
-- A queue (waiting room) is given as both of its settings, or neither; it opens now.
WITH event AS (
    INSERT INTO events (name, location, organization, rating, date, capacity, remaining, price, currency,
                        image_url, description, max_per_order, created_by,
                        sale_starts_at, max_per_user,
                        queue_admit_per_minute, queue_pass_seconds, queue_opened_at)
    VALUES (:'name', :'location', :'organization', :'rating', :'date'::timestamptz,
            :'capacity'::int, :'capacity'::int, :'price'::numeric, :'currency', :'image_url', :'description',
            :'max_per_order'::int, :'created_by'::uuid,
            :'sale_starts_at'::timestamptz, :'max_per_user'::int,
            :'queue_admit_per_minute'::int, :'queue_pass_seconds'::int,
            CASE WHEN :'queue_admit_per_minute'::int IS NOT NULL THEN now() END)
    RETURNING id, name, location, organization, rating, date, capacity, remaining, price, currency,
              image_url, description, max_per_order, created_by, created_at,
              sale_starts_at, max_per_user,
              CASE WHEN queue_admit_per_minute IS NULL THEN NULL ELSE json_build_object('admit_per_minute', queue_admit_per_minute, 'pass_seconds', queue_pass_seconds) END AS queue
), types AS (
    INSERT INTO ticket_types (event_id, name, price, capacity, remaining, max_per_order, position)
    SELECT event.id, t.name, t.price, t.capacity, t.capacity, coalesce(t.max_per_order, event.max_per_order),
           t.position
      FROM event,
           json_to_recordset(:'ticket_types'::json)
               AS t(name text, price numeric, capacity int, max_per_order int, position int)
    RETURNING id, name, price, capacity, remaining, max_per_order, position
)
SELECT event.*,
       (SELECT json_agg(json_build_object('id', tt.id, 'name', tt.name, 'price', tt.price::text,
                                          'capacity', tt.capacity, 'remaining', tt.remaining,
                                          'max_per_order', tt.max_per_order) ORDER BY tt.position)
          FROM types tt) AS ticket_types
  FROM event;
