-- One payment of the ledger.
SELECT id, order_id, payment_id, amount, currency, state, received_at, updated_at, refunded_at
  FROM payments
 WHERE id = :'id'::uuid;
