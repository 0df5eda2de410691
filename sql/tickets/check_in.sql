-- Check a ticket in at the door, in ONE statement: only a VALID ticket of a PAID order
-- becomes USED, stamped with the time. Scanners racing on the same ticket queue on its
-- row lock; each later one re-checks `status = 'VALID'` against the newest row
-- (EvalPlanQual) and gets no row, so exactly one check-in wins and the first time stays.
-- A check-in by signed code (POST /check-ins) also names the code's event and version:
-- the ticket must still be at that version, so a code revoked by a transfer, even one
-- committing while this scan waits for the row, checks nothing in. By id, both are NULL.
-- No row: unknown ticket, already USED, CANCELLED, its order is not PAID, or the code's
-- version (or event) is not the ticket's.
-- The same statement records ticket.checked_in for subscribed webhook endpoints.
WITH checked AS (
    UPDATE tickets
       SET status = 'USED', checked_in_at = now()
      FROM orders
     WHERE tickets.id = :'id'::uuid
       AND orders.id = tickets.order_id
       AND tickets.status = 'VALID'
       AND orders.status = 'PAID'
       AND (:'code_version'::int IS NULL OR tickets.code_version = :'code_version'::int)
       AND (:'event_id'::uuid IS NULL OR tickets.event_id = :'event_id'::uuid)
    RETURNING tickets.id, tickets.order_id, tickets.event_id, tickets.status, tickets.checked_in_at
), announced AS (
    INSERT INTO webhook_deliveries (endpoint_id, type, subject_id)
    SELECT ep.id, 'ticket.checked_in', checked.id
      FROM checked
      JOIN webhook_endpoints ep ON ep.disabled_at IS NULL AND 'ticket.checked_in' = ANY (ep.events)
)
SELECT * FROM checked;
