"""The books of an event, read straight from the database (the `sql` fixture)."""

from ticketing.sql import path_of, to_psycopg

# sql/orders/invariant_violations.sql: no rows means no ticket oversold or lost, per event
# and per ticket type
INVARIANT = to_psycopg(path_of("orders/invariant_violations").read_text())
# sql/orders/holding_violations.sql: no rows means every per-user counter is right
HOLDINGS = to_psycopg(path_of("orders/holding_violations").read_text())


def remaining(sql, event_id) -> int:
    return sql.value("SELECT remaining FROM events WHERE id = %s", (event_id,))


def type_remaining(sql, ticket_type_id) -> int:
    return sql.value("SELECT remaining FROM ticket_types WHERE id = %s", (ticket_type_id,))


def assert_books_balance(sql) -> None:
    violations = sql.all(INVARIANT)
    assert violations == [], violations
    wrong_holdings = sql.all(HOLDINGS)
    assert wrong_holdings == [], wrong_holdings
