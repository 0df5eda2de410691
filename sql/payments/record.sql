-- Money the provider took for an order, in the ledger: `captured` when it paid the order,
-- `refund_due` when it could not be honoured and must go back.
INSERT INTO payments (order_id, payment_id, amount, currency, state)
VALUES (:'order_id'::uuid, :'payment_id', :'amount'::numeric, :'currency', :'state')
RETURNING id;
