-- An admin edits an event, in ONE statement: only the fields given change (a null
-- parameter keeps the column, except image_url and description, which the *_given flags
-- set, null included). A capacity change moves `remaining` by the same amount, and the
-- WHERE refuses a capacity below the tickets already sold (capacity - remaining, held by
-- PENDING and PAID orders); a buyer racing with the edit waits for the row lock and the
-- loser re-checks against the newest row. The price and currency apply to future orders
-- only: existing orders keep their unit_price and currency. sale_starts_at, max_per_user and queue (both
-- queue settings at once) follow *_given flags like image_url, so null clears them; a
-- lower max_per_user never touches orders already placed, it only stops further ones.
-- No row: unknown, deleted, or below sold.
UPDATE events
   SET name          = coalesce(:'name', name),
       location      = coalesce(:'location', location),
       organization  = coalesce(:'organization', organization),
       rating        = coalesce(:'rating', rating),
       date          = coalesce(:'date'::timestamptz, date),
       capacity      = coalesce(:'capacity'::int, capacity),
       remaining     = remaining + (coalesce(:'capacity'::int, capacity) - capacity),
       price         = coalesce(:'price'::numeric, price),
       currency      = coalesce(:'currency', currency),
       max_per_order = coalesce(:'max_per_order'::int, max_per_order),
       image_url     = CASE WHEN :'image_url_given'::boolean THEN :'image_url' ELSE image_url END,
       description   = CASE WHEN :'description_given'::boolean THEN :'description' ELSE description END,
       sale_starts_at = CASE WHEN :'sale_starts_at_given'::boolean THEN :'sale_starts_at'::timestamptz
                             ELSE sale_starts_at END,
       max_per_user  = CASE WHEN :'max_per_user_given'::boolean THEN :'max_per_user'::int ELSE max_per_user END,
       queue_admit_per_minute = CASE WHEN :'queue_given'::boolean THEN :'queue_admit_per_minute'::int
                                     ELSE queue_admit_per_minute END,
       queue_pass_seconds = CASE WHEN :'queue_given'::boolean THEN :'queue_pass_seconds'::int
                                 ELSE queue_pass_seconds END,
       -- switched on now (not when only its settings change), or off
       queue_opened_at = CASE WHEN NOT :'queue_given'::boolean THEN queue_opened_at
                              WHEN :'queue_admit_per_minute'::int IS NULL THEN NULL
                              ELSE coalesce(queue_opened_at, now()) END
 WHERE id = :'id'::uuid
   AND deleted_at IS NULL
   AND coalesce(:'capacity'::int, capacity) >= capacity - remaining
RETURNING id, name, location, organization, rating, date, capacity, remaining, price, currency,
          image_url, description, max_per_order, created_by, created_at,
          sale_starts_at, max_per_user,
          CASE WHEN queue_admit_per_minute IS NULL THEN NULL ELSE json_build_object('admit_per_minute', queue_admit_per_minute, 'pass_seconds', queue_pass_seconds) END AS queue;
