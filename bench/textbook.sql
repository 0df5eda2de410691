-- The textbook purchase the original Go service ran, for pgbench (-M simple): lock the
-- event row, count its live tickets, insert the order and its ticket, commit. Every round
-- trip between the SELECT ... FOR UPDATE and the COMMIT is spent holding the row lock.
-- Variables hold SQL literals as psycopg2 would render them (-D event_id="'<uuid>'",
-- -D quantity=1): in simple mode pgbench splices them into the text as they are.
-- Our schema's rules still hold: total = price * quantity, a hold expiry on every order,
-- and each ticket's (order_id, event_id) names its order.
BEGIN;
SELECT capacity, price, quote_literal(currency) AS currency FROM events WHERE id = :event_id FOR UPDATE \gset
SELECT count(*) AS sold FROM tickets WHERE event_id = :event_id AND status <> 'CANCELLED' \gset
\if :sold + :quantity <= :capacity
INSERT INTO orders (user_id, event_id, quantity, unit_price, total_amount, expires_at, currency)
VALUES (:user_id, :event_id, :quantity, :price, :price * :quantity,
        now() + make_interval(secs => :hold_seconds), :currency)
RETURNING quote_literal(id) AS order_id \gset
INSERT INTO tickets (order_id, event_id, price)
SELECT :order_id, :event_id, :price FROM generate_series(1, :quantity);
\endif
COMMIT;
