-- An admin edits an event, in ONE statement: only the fields given change (a null
-- parameter keeps the column, except image_url and description, which the *_given flags
-- set, null included). A capacity change moves `remaining` by the same amount, and the
-- WHERE refuses a capacity below the tickets already sold (capacity - remaining, held by
-- PENDING and PAID orders); a buyer racing with the edit waits for the row lock and the
-- loser re-checks against the newest row. The price and currency apply to future orders
-- only: existing orders keep their unit_price and currency. sale_starts_at, max_per_user and queue (both
-- queue settings at once) follow *_given flags like image_url, so null clears them; a
-- lower max_per_user never touches orders already placed, it only stops further ones.
-- Ticket types (docs/ticket-types.md): the first type's price follows a new event price
-- (the event's price is always its first type's); an event with ONE type also has that
-- type follow a new capacity (moving its remaining by the same amount) and max_per_order,
-- so a single-type event behaves exactly as before types existed. With several types,
-- capacity is the venue's overall cap only. Lock order: the event row (updated first),
-- then its type rows (the second UPDATE joins the first's output), as in every statement.
-- No row: unknown, deleted, or below sold.
WITH updated AS (
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
              CASE WHEN queue_admit_per_minute IS NULL THEN NULL ELSE json_build_object('admit_per_minute', queue_admit_per_minute, 'pass_seconds', queue_pass_seconds) END AS queue
), shape AS (
    SELECT count(*) AS types, min(position) AS first_position
      FROM ticket_types
     WHERE event_id = :'id'::uuid
), followed AS (
    UPDATE ticket_types t
       SET price = CASE WHEN t.position = shape.first_position THEN coalesce(:'price'::numeric, t.price)
                        ELSE t.price END,
           capacity = CASE WHEN shape.types = 1 THEN coalesce(:'capacity'::int, t.capacity) ELSE t.capacity END,
           remaining = CASE WHEN shape.types = 1
                            THEN t.remaining + (coalesce(:'capacity'::int, t.capacity) - t.capacity)
                            ELSE t.remaining END,
           max_per_order = CASE WHEN shape.types = 1 THEN coalesce(:'max_per_order'::int, t.max_per_order)
                                ELSE t.max_per_order END
      FROM updated, shape
     WHERE t.event_id = updated.id
       AND ((:'price'::numeric IS NOT NULL AND t.position = shape.first_position)
            OR (shape.types = 1 AND (:'capacity'::int IS NOT NULL OR :'max_per_order'::int IS NOT NULL)))
    RETURNING t.id, t.name, t.price, t.capacity, t.remaining, t.max_per_order, t.position
)
SELECT updated.*,
       (SELECT json_agg(json_build_object('id', tt.id, 'name', tt.name, 'price', tt.price::text,
                                          'capacity', tt.capacity, 'remaining', tt.remaining,
                                          'max_per_order', tt.max_per_order) ORDER BY tt.position)
          FROM (SELECT * FROM followed
                UNION ALL
                SELECT t.id, t.name, t.price, t.capacity, t.remaining, t.max_per_order, t.position
                  FROM ticket_types t
                 WHERE t.event_id = updated.id AND t.id NOT IN (SELECT id FROM followed)) tt) AS ticket_types
  FROM updated;
