-- The textbook purchase the original Go service ran, for pgbench (-M simple): lock the
-- event row, count its live tickets, insert the order and its ticket, commit. Every round
-- trip between the SELECT ... FOR UPDATE and the COMMIT is spent holding the row lock.
-- Variables hold SQL literals as psycopg2 would render them (-D event_id="'<uuid>'",
-- -D quantity=1): in simple mode pgbench splices them into the text as they are.
-- Our schema's rules still hold: total = price * quantity, a hold expiry and a currency on
-- every order, each ticket's (order_id, event_id) names its order, and both carry the
-- event's (only) ticket type. (It does not keep the type's remaining: the textbook has no
-- types; the bench's invariant check covers the API runs' events only.)
BEGIN;
SELECT capacity, price, quote_literal(currency) AS currency FROM events WHERE id = :event_id FOR UPDATE \gset
SELECT count(*) AS sold FROM tickets WHERE event_id = :event_id AND status <> 'CANCELLED' \gset
\if :sold + :quantity <= :capacity
INSERT INTO orders (user_id, event_id, ticket_type_id, quantity, unit_price, total_amount, expires_at,
                    currency)
VALUES (:user_id, :event_id,
        (SELECT id FROM ticket_types WHERE event_id = :event_id ORDER BY position LIMIT 1),
        :quantity, :price, :price * :quantity, now() + make_interval(secs => :hold_seconds), :currency)
RETURNING quote_literal(id) AS order_id, quote_literal(ticket_type_id) AS type_id \gset
INSERT INTO tickets (order_id, event_id, ticket_type_id, price)
SELECT :order_id, :event_id, :type_id, :price FROM generate_series(1, :quantity);
\endif
COMMIT;
