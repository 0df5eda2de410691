-- An admin edits an event, in ONE statement: only the fields given change (a null
-- parameter keeps the column, except image_url and description, which the *_given flags
-- set, null included). A capacity change moves `remaining` by the same amount, and the
-- WHERE refuses a capacity below the tickets already sold (capacity - remaining, held by
-- PENDING and PAID orders); a buyer racing with the edit waits for the row lock and the
-- loser re-checks against the newest row. The price and currency apply to future orders only:
-- existing orders keep their unit_price and currency. No row: unknown, deleted, or below sold.
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
       description   = CASE WHEN :'description_given'::boolean THEN :'description' ELSE description END
 WHERE id = :'id'::uuid
   AND deleted_at IS NULL
   AND coalesce(:'capacity'::int, capacity) >= capacity - remaining
RETURNING id, name, location, organization, rating, date, capacity, remaining, price, currency,
          image_url, description, max_per_order, created_by, created_at;
