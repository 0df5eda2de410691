-- Record a payment-webhook delivery for an order (locked by orders/lock), claiming its
-- provider payment id. No row: the payment id was already claimed by an earlier delivery
-- (a concurrent one waits on the unique index until that one commits or rolls back).
-- The answer is filled in by payments/answer_delivery before the transaction commits.
INSERT INTO payment_deliveries (order_id, payment_id, status, amount, currency, reason)
VALUES (:'order_id'::uuid, :'payment_id', :'status', :'amount'::numeric, :'currency', :'reason')
ON CONFLICT (payment_id) DO NOTHING
RETURNING id;
