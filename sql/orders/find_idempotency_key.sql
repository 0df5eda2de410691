-- What a previous request with this Idempotency-Key got: its request hash and either
-- the order it created or the error response it received.
SELECT request_hash, order_id, response_status, response_body
  FROM idempotency_keys
 WHERE user_id = :'user_id'::uuid AND key = :'key';
