-- The answer a recorded delivery got (status, and the problem body for an error), so a
-- delivery repeating its payment id gets it again.
UPDATE payment_deliveries
   SET response_status = :'response_status'::int, response_body = :'response_body'::jsonb
 WHERE id = :'id'::uuid;
