-- One order, locked until the end of the transaction (FOR UPDATE): payment deliveries
-- and refunds of the same order queue here, so each decides on the order as it really is.
-- No row: no such order.
SELECT id, event_id, quantity, total_amount, currency, status
  FROM orders
 WHERE id = :'id'::uuid
   FOR UPDATE;
