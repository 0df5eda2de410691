-- A page of events, soonest first (ties by id); past ones, and (for admins) deleted ones,
-- only when asked.
-- Always returns at least one row, so the total is known even past the last page.
WITH matching AS (
    SELECT *
    FROM events
    WHERE (deleted_at IS NULL OR :'include_deleted'::boolean)
      AND (:'include_past'::boolean OR date > now())
), page AS (
    SELECT id, name, location, organization, rating, date, capacity, remaining, price, currency,
           image_url, description, max_per_order, created_by, created_at, deleted_at,
           sale_starts_at, max_per_user,
           CASE WHEN queue_admit_per_minute IS NULL THEN NULL ELSE json_build_object('admit_per_minute', queue_admit_per_minute, 'pass_seconds', queue_pass_seconds) END AS queue,
           (SELECT json_agg(json_build_object('id', tt.id, 'name', tt.name, 'price', tt.price::text,
                                  'capacity', tt.capacity, 'remaining', tt.remaining,
                                  'max_per_order', tt.max_per_order) ORDER BY tt.position)
          FROM ticket_types tt WHERE tt.event_id = matching.id) AS ticket_types
    FROM matching
    ORDER BY date, id
    LIMIT :'limit'::int OFFSET :'offset'::int
)
SELECT (SELECT count(*) FROM matching) AS total, page.*
FROM (SELECT) AS always_one_row
LEFT JOIN page ON true
ORDER BY page.date, page.id;
