-- A page of one endpoint's delivery log, newest first (ties by id).
-- Always returns at least one row, so the total is known even past the last page.
WITH page AS (
    SELECT id, event_id, type, subject_id, attempts, last_status, last_error,
           CASE WHEN delivered_at IS NULL AND failed_at IS NULL THEN next_attempt_at END AS next_attempt_at,
           delivered_at, failed_at, created_at
      FROM webhook_deliveries
     WHERE endpoint_id = :'endpoint_id'::uuid
     ORDER BY created_at DESC, id
     LIMIT :'limit'::int OFFSET :'offset'::int
)
SELECT (SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = :'endpoint_id'::uuid) AS total, page.*
  FROM (SELECT) AS always_one_row
  LEFT JOIN page ON true
 ORDER BY page.created_at DESC, page.id;
