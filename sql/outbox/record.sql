-- Record an event for every enabled endpoint subscribed to its type (none: nothing), in
-- the caller's transaction, so the event exists if and only if its change commits.
INSERT INTO webhook_deliveries (endpoint_id, type, subject_id)
SELECT id, :'type', :'subject_id'::uuid
  FROM webhook_endpoints
 WHERE disabled_at IS NULL AND :'type' = ANY (events);
