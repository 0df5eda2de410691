"""Probes, and how the app behaves when PostgreSQL is missing, slow, busy or restarted."""

import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest

from tests.support.problems import assert_problem
from tests.support.samples import UNREACHABLE_DATABASE_URL
from tests.support.timeouts import REQUEST_TIMEOUT, WAIT_TIMEOUT
from ticketing.errors import ServiceUnavailable
from ticketing.sql import Query


def finishes(fn):
    """Run fn in a thread; fail (instead of hanging the suite) if it never returns."""
    pool = ThreadPoolExecutor(1)
    try:
        return pool.submit(fn).result(timeout=REQUEST_TIMEOUT)
    finally:
        pool.shutdown(wait=False)


def assert_unavailable(response, path):
    body = assert_problem(response, 503, "service-unavailable", path)
    assert int(response.headers["Retry-After"]) > 0
    return body


def db_of(app):
    return app.extensions["ticketing.db"]


# ---------------------------------------------------------------- probes


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_healthz_does_not_touch_the_database(make_app):
    app = make_app(database_url=UNREACHABLE_DATABASE_URL)
    response = finishes(lambda: app.test_client().get("/healthz"))
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready"}


def test_readyz_503_when_a_migration_is_missing(client, sql):
    newest = sql.value("SELECT max(version) FROM schema_migrations")
    assert newest
    sql.all("DELETE FROM schema_migrations WHERE version = %s", (newest,))
    try:
        response = client.get("/readyz")
        body = assert_unavailable(response, "/readyz")
        assert newest in body["detail"]
    finally:
        sql.all("INSERT INTO schema_migrations (version) VALUES (%s) ON CONFLICT DO NOTHING", (newest,))
    assert client.get("/readyz").status_code == 200


def test_readyz_503_when_the_database_is_unreachable(make_app):
    app = make_app(database_url=UNREACHABLE_DATABASE_URL)
    response = finishes(lambda: app.test_client().get("/readyz"))
    assert_unavailable(response, "/readyz")


@pytest.mark.parametrize("path", ["/api/v1/events", "/api/v1/me"])
def test_db_routes_503_when_the_database_is_unreachable(make_app, users, path):
    app = make_app(database_url=UNREACHABLE_DATABASE_URL)
    headers = {"Authorization": f"Bearer {users.token('0b5c2f7e-9a1d-4c55-a1d3-7c1b2d3e4f50')}"}
    client = app.test_client()
    for _ in range(2):  # and again: a failed connect leaves nothing broken behind
        response = finishes(lambda: client.get(path, headers=headers))
        assert_unavailable(response, path)


def test_login_503_when_the_database_is_unreachable(make_app):
    app = make_app(database_url=UNREACHABLE_DATABASE_URL)
    client = app.test_client()
    response = finishes(
        lambda: client.post("/api/v1/login", json={"email": "a@example.com", "password": "password123"})
    )
    assert_unavailable(response, "/api/v1/login")


# ---------------------------------------------------------------- pool, timeouts


def test_pool_exhaustion_is_503_then_recovers(make_app):
    app = make_app(db_pool_size=1, db_pool_timeout_ms=200)
    client = app.test_client()
    assert client.get("/api/v1/events").status_code == 200
    held, release = threading.Event(), threading.Event()

    def hold_the_only_connection():
        with app.app_context():
            with db_of(app).connection():
                held.set()
                release.wait(WAIT_TIMEOUT)

    holder = threading.Thread(target=hold_the_only_connection)
    holder.start()
    try:
        assert held.wait(WAIT_TIMEOUT)
        response = finishes(lambda: client.get("/api/v1/events"))
        body = assert_unavailable(response, "/api/v1/events")
        assert "busy" in body["detail"]
        assert_unavailable(finishes(lambda: client.get("/readyz")), "/readyz")
    finally:
        release.set()
        holder.join(WAIT_TIMEOUT)
    assert not holder.is_alive()
    assert client.get("/api/v1/events").status_code == 200
    assert client.get("/readyz").status_code == 200


PID = Query("pid", "SELECT pg_backend_pid() AS pid")
SLEEP = Query("t", "SELECT pg_sleep(1)")


def test_statement_timeout_is_service_unavailable_and_keeps_the_connection(make_app):
    app = make_app(db_statement_timeout_ms=200, db_pool_size=1)
    database = db_of(app)
    with app.app_context():
        pid = database.one(PID)["pid"]
        assert database.one(Query("show", "SHOW statement_timeout"))["statement_timeout"] == "200ms"
        with pytest.raises(ServiceUnavailable) as raised:
            finishes(lambda: database.one(SLEEP))
        assert raised.value.status == 503
        assert int(raised.value.headers["Retry-After"]) > 0
        # The same connection went back to the pool and still works.
        assert database.one(PID)["pid"] == pid
        assert database.one(Query("one", "SELECT 1 AS one")) == {"one": 1}


def test_statement_timeout_inside_a_transaction_rolls_back(make_app, sql):
    app = make_app(db_statement_timeout_ms=200, db_pool_size=1)
    database = db_of(app)
    with app.app_context():
        pid = database.one(PID)["pid"]
        with pytest.raises(ServiceUnavailable):
            with database.transaction() as tx:
                tx.execute(Query("mark", "CREATE TEMP TABLE timeout_marker (x int)"))
                tx.one(SLEEP)
        assert database.one(PID)["pid"] == pid
        # The aborted transaction was rolled back: the temp table never existed.
        assert database.one(Query("reg", "SELECT to_regclass('timeout_marker') AS t")) == {"t": None}


def test_lock_timeout_is_503_not_a_hang(make_app, database_url):
    app = make_app(db_lock_timeout_ms=200)
    client = app.test_client()
    locker = psycopg2.connect(database_url)
    try:
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        response = finishes(lambda: client.get("/api/v1/events"))
        assert_unavailable(response, "/api/v1/events")
    finally:
        locker.rollback()
        locker.close()
    assert client.get("/api/v1/events").status_code == 200


# ---------------------------------------------------------------- recovery


def test_recovers_after_backends_are_terminated(make_app, sql):
    app = make_app(db_pool_size=2)
    database = db_of(app)
    client = app.test_client()
    # Open both pooled connections so the pool holds two that will die.
    with app.app_context(), database.connection() as one, database.connection() as two:
        pids = {one.info.backend_pid, two.info.backend_pid}
    assert client.get("/api/v1/events").status_code == 200

    # Only this app's backends: other apps (the live gunicorn) share the test database.
    killed = sql.all(
        "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity"
        " WHERE application_name = 'ticketing' AND datname = current_database()"
        " AND pid = ANY(%s)",
        (list(pids),),
    )
    assert len(killed) == 2 and all(row["ok"] for row in killed)

    statuses = []
    for _ in range(4):
        response = finishes(lambda: client.get("/api/v1/events"))
        statuses.append(response.status_code)
        if response.status_code == 200:
            break
        assert_unavailable(response, "/api/v1/events")
    assert statuses[-1] == 200, statuses
    assert 500 not in statuses
    # Later requests keep working.
    for _ in range(3):
        assert client.get("/api/v1/events").status_code == 200
    assert client.get("/readyz").status_code == 200
