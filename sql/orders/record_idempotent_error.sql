-- Remember the error a keyed purchase got when nothing was sold. Does nothing if a
-- concurrent request with the same key already owns it (that outcome wins).
INSERT INTO idempotency_keys (user_id, key, request_hash, response_status, response_body)
VALUES (:'user_id'::uuid, :'key', :'request_hash', :'response_status'::int, :'response_body'::jsonb)
ON CONFLICT (user_id, key) DO NOTHING
RETURNING key;
