-- Publish an event; all of its capacity is still for sale.
-- A queue (waiting room) is given as both of its settings, or neither; it opens now.
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
          CASE WHEN queue_admit_per_minute IS NULL THEN NULL ELSE json_build_object('admit_per_minute', queue_admit_per_minute, 'pass_seconds', queue_pass_seconds) END AS queue;
