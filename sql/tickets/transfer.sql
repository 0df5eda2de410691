-- The holder gives a ticket to the account with :'email' (case-insensitively), in ONE
-- statement: holder_id becomes the recipient and code_version goes up, so every code
-- shown before is revoked at the door. Only the current holder (a transfer's recipient,
-- else the buyer), only to another existing account, only a VALID ticket of a PAID
-- order, only before its (not deleted) event starts.
-- Races: a check-in or another transfer of the same ticket queues on the ticket's row
-- lock and re-checks status and holder against the newest row (EvalPlanQual), so a
-- ticket is never both used and transferred, nor given to two people.
-- No row: nothing changed; sql/tickets/transfer_state.sql then says why.
WITH recipient AS (
    SELECT id FROM users WHERE lower(email) = lower(:'email')
)
UPDATE tickets t
   SET holder_id = recipient.id, code_version = t.code_version + 1
  FROM orders o, events e, recipient
 WHERE t.id = :'id'::uuid
   AND o.id = t.order_id
   AND e.id = t.event_id
   AND coalesce(t.holder_id, o.user_id) = :'user_id'::uuid
   AND recipient.id <> :'user_id'::uuid
   AND t.status = 'VALID'
   AND o.status = 'PAID'
   AND e.date > now()
   AND e.deleted_at IS NULL
   AND t.code_version < 65535
RETURNING t.id, t.order_id, t.event_id, t.ticket_type_id,
          (SELECT tt.name FROM ticket_types tt WHERE tt.id = t.ticket_type_id) AS ticket_type_name, t.price, t.status, t.checked_in_at, t.holder_id,
          t.code_version, o.status AS order_status,
          json_build_object('id', e.id, 'name', e.name, 'date', e.date) AS event;
