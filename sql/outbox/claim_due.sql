-- Claim up to :batch_size due deliveries of enabled endpoints for one attempt each. Every
-- worker of every instance runs this: SKIP LOCKED splits the due rows between them, and
-- the claim itself (attempts + 1, next_attempt_at pushed :lease_seconds ahead) commits at
-- once, so no one else claims the same attempt while it is being sent. If the sender dies,
-- the lease runs out and another worker makes the next attempt: at least once, never lost.
WITH due AS (
    SELECT d.id
      FROM webhook_deliveries d
      JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.disabled_at IS NULL
     WHERE d.delivered_at IS NULL AND d.failed_at IS NULL AND d.next_attempt_at <= now()
     ORDER BY d.next_attempt_at
     LIMIT :'batch_size'::int
       FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d
   SET attempts = d.attempts + 1,
       next_attempt_at = now() + make_interval(secs => :'lease_seconds'::int)
  FROM due, webhook_endpoints e
 WHERE d.id = due.id AND e.id = d.endpoint_id
RETURNING d.id, d.endpoint_id, d.event_id, d.type, d.subject_id, d.data, d.created_at, d.attempts,
          e.url, e.secret;
