-- Forget Idempotency-Keys older than the retention window (at least 24 hours).
DELETE FROM idempotency_keys
 WHERE created_at < now() - make_interval(secs => :'retention_seconds'::int);
