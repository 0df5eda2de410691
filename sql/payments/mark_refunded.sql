-- The provider paid a `refund_due` payment back: it becomes `refunded`, once.
-- No row: unknown, or not `refund_due` (already refunded, or still captured).
UPDATE payments
   SET state = 'refunded', refunded_at = now(), updated_at = now()
 WHERE id = :'id'::uuid AND state = 'refund_due'
RETURNING id, order_id, payment_id, amount, currency, state, received_at, updated_at, refunded_at;
