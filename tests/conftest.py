"""Fixtures: a real PostgreSQL test database, the app, clients, users and live gunicorns.

The tests use their own database (`ticketing_test` on the embedded server, or
`<DATABASE_URL's database>_test`, or TEST_DATABASE_URL), never the one `make run` serves.
Tables are emptied before each test.

What the tests share besides fixtures (timeouts, servers, races, checks) is in tests/support/.
"""

from __future__ import annotations

import base64
import itertools
import time
import uuid
from dataclasses import replace

import psycopg2
import pytest

from tests.support.frontdoor import nginx_or_fail, remove, start_front_door
from tests.support.samples import EVENT, JWT_SECRET, TICKET_SIGNING_KEY, WEBHOOK, WEBHOOK_SECRET
from tests.support.servers import start_gunicorn
from ticketing import create_app, devdb, security
from ticketing.config import Settings

TABLES = [
    "webhook_deliveries",
    "webhook_endpoints",
    "payments",
    "payment_deliveries",
    "login_failures",
    "queue_admission",
    "queue_entries",
    "holdings",
    "idempotency_keys",
    "tickets",
    "orders",
    "ticket_types",
    "events",
    "users",
]


@pytest.fixture(scope="session")
def owner_database_url():
    """The test database as its owner: migrations, and the tests' own set-up (TRUNCATE)."""
    url = devdb.resolve_owner_url(test=True)
    devdb.migrate(url, dump_schema=False)
    return url


@pytest.fixture(scope="session")
def database_url(owner_database_url):
    """The test database as the app connects to it: on the embedded server a role that
    may only read and write rows (ticketing_app), as in production."""
    return devdb.resolve_url(test=True)


@pytest.fixture(scope="session")
def settings(database_url, tmp_path_factory):
    return Settings(
        app_env="development",
        database_url=database_url,
        jwt_secret=JWT_SECRET,
        webhook_secret=WEBHOOK_SECRET,
        ticket_signing_key=base64.b64decode(TICKET_SIGNING_KEY),
        bcrypt_rounds=4,
        db_pool_size=4,
        dev_data_dir=tmp_path_factory.mktemp("devdata"),
        webhook_allow_private_targets=True,  # the tests' webhook receivers are on loopback
        webhook_retry_first_seconds=0.2,
    )


@pytest.fixture(scope="session")
def app(settings):
    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    app.extensions["ticketing.db"].close()


@pytest.fixture
def make_app(settings):
    """Build an app with some settings changed (pool size, timeouts, database URL...)."""
    apps = []

    def build(**changes):
        new = create_app(replace(settings, **changes))
        apps.append(new)
        return new

    yield build
    for built in apps:
        built.extensions["ticketing.db"].close()


class Sql:
    """Direct SQL for arranging and checking the database from tests."""

    def __init__(self, url):
        self.conn = psycopg2.connect(url)
        self.conn.autocommit = True

    def all(self, statement, params=None):
        with self.conn.cursor() as cur:
            cur.execute(statement, params)
            if cur.description is None:
                return []
            names = [c.name for c in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]

    def one(self, statement, params=None):
        rows = self.all(statement, params)
        return rows[0] if rows else None

    def value(self, statement, params=None):
        row = self.one(statement, params)
        return None if row is None else next(iter(row.values()))


@pytest.fixture(scope="session")
def sql_session(owner_database_url):
    sql = Sql(owner_database_url)
    yield sql
    sql.conn.close()


@pytest.fixture(autouse=True)
def sql(sql_session):
    existing = [t for t in TABLES if sql_session.value("SELECT to_regclass(%s)", (t,))]
    sql_session.all(f"TRUNCATE {', '.join(existing)} CASCADE")
    return sql_session


@pytest.fixture
def client(app):
    return app.test_client()


_emails = itertools.count()


class Users:
    """Creates accounts straight in the database and mints their tokens."""

    def __init__(self, sql, settings):
        self.sql = sql
        self.settings = settings

    def create(self, role="user", name="Test User", email=None, password="password123"):
        email = email or f"user{next(_emails)}-{time.time_ns()}@example.com"
        row = self.sql.one(
            "INSERT INTO users (name, email, password_hash, role) VALUES (%s, %s, %s, %s)"
            " RETURNING id, name, email, role",
            (name, email, security.hash_password(password, 4), role),
        )
        row["id"] = str(row["id"])
        row["password"] = password
        row["token"] = self.token(row["id"], role)
        row["headers"] = {"Authorization": f"Bearer {row['token']}"}
        return row

    def token(self, user_id, role="user", **kwargs):
        return security.issue_token(user_id, role, JWT_SECRET, 3600, **kwargs)

    def many_headers(self, count):
        """`count` buyers made in one statement (no usable password): their auth headers."""
        rows = self.sql.all(
            "INSERT INTO users (name, email, password_hash)"
            " SELECT 'Buyer ' || n, 'rush-' || %s || '-' || n || '@example.com', 'x'"
            " FROM generate_series(1, %s) AS n RETURNING id",
            (uuid.uuid4().hex, count),
        )
        return [{"Authorization": f"Bearer {self.token(str(r['id']))}"} for r in rows]


@pytest.fixture
def users(sql, settings):
    return Users(sql, settings)


@pytest.fixture
def admin(users):
    return users.create(role="admin", name="Admin")


@pytest.fixture
def buyer(users):
    return users.create(name="Buyer")


@pytest.fixture
def make_event(client, admin):
    def create(**fields):
        response = client.post("/api/v1/events", json={**EVENT, **fields}, headers=admin["headers"])
        assert response.status_code == 201, response.json
        return response.json

    return create


@pytest.fixture
def buy(client, buyer):
    """POST /api/v1/orders as the buyer (or `user`), optionally with an Idempotency-Key."""

    def purchase(event_id, quantity=1, user=None, key=None):
        headers = dict((user or buyer)["headers"])
        if key is not None:
            headers["Idempotency-Key"] = key
        return client.post(
            "/api/v1/orders", json={"event_id": event_id, "quantity": quantity}, headers=headers
        )

    return purchase


@pytest.fixture
def settle(client):
    """The payment provider's webhook (through another app's test client if given)."""

    def post(order_id, status, reason=None, headers=WEBHOOK, through=None):
        body = {"status": status} if reason is None else {"status": status, "reason": reason}
        return (through or client).post(f"/api/v1/orders/{order_id}/status", json=body, headers=headers)

    return post


@pytest.fixture
def order(buy, settle):
    """An order of `quantity` tickets, settled PAID/REJECTED when `status` says so."""

    def make(event_id, quantity=1, status="PAID", user=None):
        response = buy(event_id, quantity, user=user)
        assert response.status_code == 201, response.json
        created = response.json
        if status != "PENDING":
            assert settle(created["id"], status).status_code == 204
        return created

    return make


@pytest.fixture
def staff(users):
    return users.create(role="staff", name="Door Staff")


@pytest.fixture
def receiver():
    """A real HTTP server receiving outgoing webhooks (tests/support/receiver.py)."""
    from tests.support.receiver import Receiver

    started = Receiver().start()
    yield started
    started.stop()


# The purchase batcher forced on: gthread workers (threads share a batcher), and a window
# long enough that concurrent buyers of one event land in one statement.
BATCHED = {
    "GUNICORN_WORKER_CLASS": "gthread",
    "GUNICORN_THREADS": "8",
    "DB_POOL_SIZE": "8",
    "PURCHASE_BATCHING": "on",
    "PURCHASE_BATCH_WINDOW_MS": "20",
}


@pytest.fixture(scope="session")
def batched_live_server(database_url, tmp_path_factory):
    """live_server with purchase batching forced on (BATCHED): the same tests, through
    sql/orders/purchase_batch.sql (tests/support/paths.py runs a module on both)."""
    server = start_gunicorn(
        database_url, tmp_path_factory.mktemp("batched"), EXPIRY_SWEEP_MS="0", QUEUE_ADMIT_MS="0", **BATCHED
    )
    yield server
    server.stop()


@pytest.fixture(params=["single", "batched"])
def purchase_server(request):
    """live_server, then batched_live_server: a purchase race runs on both paths."""
    return request.getfixturevalue(f"{request.param}_live_server")


@pytest.fixture(scope="session")
def live_server(single_live_server):
    return single_live_server


@pytest.fixture(scope="session")
def single_live_server(database_url, tmp_path_factory):
    """gunicorn with 3 workers for real concurrency. Its expiry sweep and queue admission
    are off: tests that move expires_at into the past decide themselves when holds
    expire, and queue tests when entries are admitted."""
    server = start_gunicorn(
        database_url, tmp_path_factory.mktemp("live"), EXPIRY_SWEEP_MS="0", QUEUE_ADMIT_MS="0"
    )
    yield server
    server.stop()


@pytest.fixture
def gunicorn(database_url, tmp_path):
    """gunicorn(**env_overrides): a gunicorn of this test's own (see start_gunicorn), with
    some of its environment changed; stopped when the test ends."""
    servers = []

    def start(**env_overrides):
        folder = tmp_path / f"gunicorn-{len(servers)}"
        folder.mkdir()
        servers.append(start_gunicorn(database_url, folder, **env_overrides))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def nginx():
    """nginx's path; installed with apt-get if missing, else the test fails (never skips)."""
    return nginx_or_fail()


@pytest.fixture
def front_door(database_url, nginx):
    """front_door(**env_overrides): `python -m ticketing.frontdoor` (what `make run` runs)
    on a free port, nginx in front of both gunicorn pools; stopped when the test ends."""
    servers = []

    def start(**env_overrides):
        servers.append(start_front_door(database_url, **env_overrides))
        return servers[-1]

    yield start
    for server in servers:
        remove(server)
