-- Send a delivery again now (failed, pending, or even delivered: consumers dedupe by
-- Webhook-Id), with a fresh WEBHOOK_RETRY_HOURS of retries. No row: not this endpoint's.
UPDATE webhook_deliveries
   SET next_attempt_at = now(), retry_from = now(), delivered_at = NULL, failed_at = NULL
 WHERE id = :'id'::uuid AND endpoint_id = :'endpoint_id'::uuid
RETURNING id, event_id, type, subject_id, attempts, last_status, last_error, next_attempt_at,
          delivered_at, failed_at, created_at;
