-- The payments that paid an order (at most one, unless the data predates the ledger).
SELECT id, payment_id
  FROM payments
 WHERE order_id = :'order_id'::uuid AND state = 'captured';
