-- A page of webhook endpoints, oldest first (ties by id), without their secrets.
-- Always returns at least one row, so the total is known even past the last page.
WITH page AS (
    SELECT id, url, events, created_at, disabled_at
      FROM webhook_endpoints
     ORDER BY created_at, id
     LIMIT :'limit'::int OFFSET :'offset'::int
)
SELECT (SELECT count(*) FROM webhook_endpoints) AS total, page.*
  FROM (SELECT) AS always_one_row
  LEFT JOIN page ON true
 ORDER BY page.created_at, page.id;
