-- The current status of one order.
SELECT status FROM orders WHERE id = :'id'::uuid;
