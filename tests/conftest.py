"""Fixtures: a real PostgreSQL test database, the app, clients, users and a live gunicorn.

The tests use their own database (`ticketing_test` on the embedded server, or
`<DATABASE_URL's database>_test`, or TEST_DATABASE_URL), never the one `make run` serves.
Tables are emptied before each test.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import psycopg2
import pytest
import requests

from ticketing import create_app, devdb, security
from ticketing.config import Settings
from ticketing.sql import path_of, to_psycopg

ROOT = Path(__file__).resolve().parent.parent
JWT_SECRET = "test-secret-that-is-at-least-32-bytes-long!"
WEBHOOK_SECRET = "test-webhook-secret"
WEBHOOK = {"X-Webhook-Secret": WEBHOOK_SECRET}
# sql/orders/invariant_violations.sql: no rows means no ticket oversold or lost
INVARIANT = to_psycopg(path_of("orders/invariant_violations").read_text())
TABLES = ["idempotency_keys", "tickets", "orders", "events", "users"]


@pytest.fixture(scope="session")
def database_url():
    url = devdb.resolve_url(test=True)
    devdb.migrate(url, dump_schema=False)
    return url


@pytest.fixture(scope="session")
def settings(database_url, tmp_path_factory):
    return Settings(
        app_env="development",
        database_url=database_url,
        jwt_secret=JWT_SECRET,
        webhook_secret=WEBHOOK_SECRET,
        bcrypt_rounds=4,
        db_pool_size=4,
        dev_data_dir=tmp_path_factory.mktemp("devdata"),
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
def sql_session(database_url):
    sql = Sql(database_url)
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


@pytest.fixture
def users(sql, settings):
    return Users(sql, settings)


@pytest.fixture
def admin(users):
    return users.create(role="admin", name="Admin")


@pytest.fixture
def buyer(users):
    return users.create(name="Buyer")


EVENT = {
    "name": "Rock in Rio",
    "location": "Rio de Janeiro",
    "organization": "Live Nation",
    "rating": "Livre",
    "date": "2030-10-10T00:00:00Z",
    "capacity": 100,
    "price": 100.0,
    "image_url": "http://example.com/image.jpg",
    "description": "The biggest music festival in Latin America",
}


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
    """The payment provider's webhook."""

    def post(order_id, status, reason=None, headers=WEBHOOK):
        body = {"status": status} if reason is None else {"status": status, "reason": reason}
        return client.post(f"/api/v1/orders/{order_id}/status", json=body, headers=headers)

    return post


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, url, process, log):
        self.url = url
        self.process = process
        self.log = log

    def __call__(self, path):
        return self.url + path

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def start_gunicorn(database_url, folder: Path, **env_overrides) -> LiveServer:
    """The app under gunicorn (several workers) in a subprocess, ready to serve."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JWT_SECRET": JWT_SECRET,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "BCRYPT_ROUNDS": "4",
        "PORT": str(port),
        "WEB_CONCURRENCY": "3",
        "DB_POOL_SIZE": "2",
        "DEV_DATA_DIR": str(folder),
        **env_overrides,
    }
    log = open(folder / "gunicorn.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(server("/healthz"), timeout=1).status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"gunicorn did not start; see {log.name}")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def live_server(database_url, tmp_path_factory):
    """gunicorn with 3 workers for real concurrency. Its expiry sweep is off: tests that
    move expires_at into the past decide themselves when holds expire."""
    server = start_gunicorn(database_url, tmp_path_factory.mktemp("live"), EXPIRY_SWEEP_MS="0")
    yield server
    server.stop()
