-- Check a ticket in at the door, in ONE statement: only a VALID ticket of a PAID order
-- becomes USED, stamped with the time. Scanners racing on the same ticket queue on its
-- row lock; each later one re-checks `status = 'VALID'` against the newest row
-- (EvalPlanQual) and gets no row, so exactly one check-in wins and the first time stays.
-- No row: unknown ticket, already USED, CANCELLED, or its order is not PAID.
-- The same statement records ticket.checked_in for subscribed webhook endpoints.
WITH checked AS (
    UPDATE tickets
       SET status = 'USED', checked_in_at = now()
      FROM orders
     WHERE tickets.id = :'id'::uuid
       AND orders.id = tickets.order_id
       AND tickets.status = 'VALID'
       AND orders.status = 'PAID'
    RETURNING tickets.id, tickets.order_id, tickets.event_id, tickets.status, tickets.checked_in_at
), announced AS (
    INSERT INTO webhook_deliveries (endpoint_id, type, subject_id)
    SELECT ep.id, 'ticket.checked_in', checked.id
      FROM checked
      JOIN webhook_endpoints ep ON ep.disabled_at IS NULL AND 'ticket.checked_in' = ANY (ep.events)
)
SELECT * FROM checked;
