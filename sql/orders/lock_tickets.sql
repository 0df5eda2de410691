-- The tickets of one order, locked until the end of the transaction: a check-in of one of
-- them waits, then re-checks `status = 'VALID'` and finds it CANCELLED if we refund.
SELECT id, status
  FROM tickets
 WHERE order_id = :'order_id'::uuid
 ORDER BY id
   FOR UPDATE;
