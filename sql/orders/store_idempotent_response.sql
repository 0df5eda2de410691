-- Keep the body a keyed purchase answered with, so a retry replays it byte for byte.
-- (The key row itself was inserted by the purchase statement, with the order.)
UPDATE idempotency_keys
   SET response_status = :'response_status'::int, response_body = :'response_body'::jsonb
 WHERE user_id = :'user_id'::uuid AND key = :'key' AND order_id = :'order_id'::uuid;
