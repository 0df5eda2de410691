-- The delivery that claimed a provider payment id, with the answer it got.
SELECT id, order_id, response_status, response_body
  FROM payment_deliveries
 WHERE payment_id = :'payment_id';
