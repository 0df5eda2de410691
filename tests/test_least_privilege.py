"""Least privilege in the database (issue 9, §5): migrations run as the owner; the app
connects as a member of `ticketing_app`, which may read and write rows and nothing else.
With only DATABASE_URL set, migrations and app use it alike, as before."""

from __future__ import annotations

import psycopg2
import psycopg2.errors
import pytest

from ticketing import devdb

FORBIDDEN = [
    "DROP TABLE users",
    "ALTER TABLE users ADD COLUMN nickname text",
    "ALTER TABLE events DROP CONSTRAINT IF EXISTS events_pkey CASCADE",
    "TRUNCATE orders",
    "CREATE TABLE intruder (id int)",
    "CREATE INDEX intruder_idx ON users (name)",
    "CREATE FUNCTION intruder() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "CREATE SCHEMA intruder",
    "ALTER ROLE CURRENT_USER CREATEDB",
    "DELETE FROM schema_migrations",
    "INSERT INTO schema_migrations (version) VALUES ('99999999999999')",
    "ALTER TABLE login_failures OWNER TO CURRENT_USER",
]


@pytest.fixture
def app_connection(database_url, owner_database_url):
    """A connection with the app's rights: the app's own URL; if that is the owner's too
    (DATABASE_URL alone), the owner acting as the group (SET ROLE), which proves the
    same grants."""
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    if database_url == owner_database_url:
        with conn.cursor() as cur:
            cur.execute("SET ROLE ticketing_app")
    yield conn
    conn.close()


def _attempt(conn, statement):
    with conn.cursor() as cur:
        cur.execute("BEGIN")
        try:
            cur.execute(statement)
        finally:
            cur.execute("ROLLBACK")


@pytest.mark.parametrize("statement", FORBIDDEN)
def test_the_app_role_cannot_change_the_schema_or_truncate(app_connection, statement):
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        _attempt(app_connection, statement)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT count(*) FROM users",
        "INSERT INTO users (name, email, password_hash) VALUES ('a', 'priv@example.com', 'x')",
        "UPDATE events SET name = name",
        "DELETE FROM idempotency_keys",
        "INSERT INTO login_failures (email, failures, last_failure_at) VALUES ('a@b.c', 1, now())",
        "SELECT version FROM schema_migrations",
        "CREATE TEMPORARY TABLE scratch (id int)",
    ],
)
def test_the_app_role_reads_and_writes_rows(app_connection, statement):
    _attempt(app_connection, statement)


def test_the_embedded_app_connects_as_a_member_of_the_group_not_the_owner(database_url, owner_database_url):
    if database_url == owner_database_url:
        pytest.skip("DATABASE_URL alone: one role for migrations and the app, by design")
    conn = psycopg2.connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT current_user, r.rolsuper, r.rolcreaterole, r.rolcreatedb,"
                " pg_has_role(current_user, 'ticketing_app', 'MEMBER'),"
                " (SELECT tableowner FROM pg_tables WHERE tablename = 'users')"
                " FROM pg_roles r WHERE r.rolname = current_user"
            )
            user, superuser, createrole, createdb, member, owner = cur.fetchone()
    finally:
        conn.close()
    assert (superuser, createrole, createdb, member) == (False, False, False, True)
    assert user != owner


def test_only_database_url_means_one_role_for_both(monkeypatch):
    for name in ("MIGRATION_DATABASE_URL", "TEST_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://owner:pw@db.example.com/ticketing")
    assert (
        devdb.resolve_url() == devdb.resolve_owner_url() == "postgresql://owner:pw@db.example.com/ticketing"
    )
    test_url = "postgresql://owner:pw@db.example.com/ticketing_test"
    assert devdb.resolve_url(test=True) == devdb.resolve_owner_url(test=True) == test_url


def test_migration_database_url_is_the_owners(monkeypatch):
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://web:pw@db.example.com/ticketing")
    monkeypatch.setenv("MIGRATION_DATABASE_URL", "postgresql://owner:pw2@db.example.com/ticketing")
    assert devdb.resolve_url() == "postgresql://web:pw@db.example.com/ticketing"
    assert devdb.resolve_owner_url() == "postgresql://owner:pw2@db.example.com/ticketing"
    assert devdb.resolve_url(test=True) == "postgresql://web:pw@db.example.com/ticketing_test"
    assert devdb.resolve_owner_url(test=True) == "postgresql://owner:pw2@db.example.com/ticketing_test"
