-- Keep the body a keyed purchase answered with, so a retry replays it byte for byte.
-- (The key row itself was inserted by the purchase statement, with the order.)
-- This copy is a cache: if it is lost in a crash, a replay renders the order instead.
-- So its commit does not wait for the WAL flush (synchronous_commit off for this
-- statement's own transaction), which keeps keyed purchases almost as cheap as plain ones.
WITH async_commit AS (
    SELECT set_config('synchronous_commit', 'off', true)
)
UPDATE idempotency_keys
   SET response_status = :'response_status'::int, response_body = :'response_body'::jsonb
 WHERE user_id = :'user_id'::uuid AND key = :'key' AND order_id = :'order_id'::uuid
   AND EXISTS (SELECT FROM async_commit);
