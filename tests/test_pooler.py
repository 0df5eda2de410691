"""The app behind a transaction pooler (PgBouncer, pool_mode = transaction, one server
connection for every client): no session state is assumed between transactions."""

from __future__ import annotations

import psycopg2
import pytest

from tests.support.books import assert_books_balance, remaining
from tests.support.concurrency import rush
from tests.support.pooler import start_pgbouncer
from ticketing import db
from ticketing.errors import ServiceUnavailable
from ticketing.orders import repository
from ticketing.sql import Query

SHOW_TIMEOUTS = Query(
    "test/show_timeouts",
    "SELECT current_setting('statement_timeout') AS statement_timeout,"
    " current_setting('lock_timeout') AS lock_timeout, current_setting('TimeZone') AS timezone",
)
PREPARED = Query("test/prepared", "SELECT count(*) AS n FROM pg_prepared_statements")


@pytest.fixture(scope="module")
def bouncer(database_url):
    server = start_pgbouncer(database_url, pool_size=1)
    yield server
    server.stop()


def session_settings(url):
    """What a fresh client of PgBouncer finds on the (shared) server connection."""
    conn = psycopg2.connect(url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting('statement_timeout'), count(*) FROM pg_prepared_statements")
            return cur.fetchone()
    finally:
        conn.close()


def test_timeouts_reach_the_server_by_set_local_and_leave_nothing_behind(bouncer, make_app):
    app = make_app(database_url=bouncer.url, db_pooler="transaction", db_statement_timeout_ms=4321)
    with app.app_context():
        database = db.current()
        expected = {"statement_timeout": "4321ms", "lock_timeout": "3s", "timezone": "UTC"}
        assert database.one(SHOW_TIMEOUTS) == expected
        with database.transaction() as tx:
            assert tx.one(SHOW_TIMEOUTS) == expected
            assert tx.one(SHOW_TIMEOUTS) == expected
    # The same server connection, for another client: the defaults, no prepared statement.
    assert session_settings(bouncer.url) == ("0", 0)


def test_the_purchase_is_not_prepared_behind_the_pooler(bouncer, make_app, make_event, buyer, sql):
    event = make_event(capacity=5)
    apps = [make_app(database_url=bouncer.url, db_pooler="transaction", db_pool_size=1) for _ in range(2)]
    for turn in range(4):  # two app pools, one server connection: they take turns on it
        with apps[turn % 2].app_context():
            order = repository.purchase(
                user_id=buyer["id"], token_version=0, event_id=event["id"], quantity=1, hold_seconds=900
            )
            assert order["quantity"] == 1
            assert db.current().one(PREPARED) == {"n": 0}
    assert remaining(sql, event["id"]) == 1
    assert_books_balance(sql)


def test_a_direct_connection_setup_is_refused_by_the_pooler(bouncer, make_app):
    """DB_POOLER=none sends its timeouts as startup options, which PgBouncer refuses: the
    app answers 503, it never runs without its timeouts."""
    app = make_app(database_url=bouncer.url, db_pooler="none")
    with app.app_context():
        with pytest.raises(ServiceUnavailable):
            db.current().one(SHOW_TIMEOUTS)


def test_a_rush_through_the_pooler_sells_exactly_capacity(bouncer, gunicorn, make_event, users, sql):
    server = gunicorn(DATABASE_URL=bouncer.url, DB_POOLER="transaction", EXPIRY_SWEEP_MS="0")
    event = make_event(capacity=10)
    buyers = users.many_headers(30)

    def buy(i, session):
        response = server.post(
            "/api/v1/orders",
            session=session,
            json={"event_id": event["id"], "quantity": 1},
            headers=buyers[i],
        )
        return response.status_code

    codes = rush(len(buyers), buy)
    assert sorted(set(codes)) == [201, 409], codes
    assert codes.count(201) == 10
    assert remaining(sql, event["id"]) == 0
    assert_books_balance(sql)
