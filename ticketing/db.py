"""One connection pool per worker process, and the one way to run named SQL.

Connections run in autocommit: a single statement is its own transaction and costs one
round trip. `transaction()` groups several statements with an explicit BEGIN/COMMIT.

Two ways to reach PostgreSQL (DB_POOLER):
- "none", a direct connection: the session is ours. Timeouts are startup options, and the
  hot purchase is PREPAREd once per connection (planned once, then only EXECUTEd).
- "transaction", behind a transaction pooler (PgBouncer `pool_mode = transaction`): each
  transaction may run on a different server connection, so nothing is kept in a session.
  No startup options (PgBouncer refuses them), no PREPARE (the next EXECUTE may land on a
  connection that never saw it) and no plain SET (it would leak into other clients'
  transactions): every statement or transaction starts with `SET LOCAL` of the timeouts,
  sent in the same round trip (several statements in one simple query are one implicit
  transaction, so SET LOCAL holds for the statement after it and ends with it).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from contextlib import contextmanager

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras
import psycopg2.pool
from flask import current_app

from ticketing import metrics
from ticketing.errors import ServiceUnavailable, ValidationFailed
from ticketing.sql import Query

# uuid.UUID parameters bind as uuid literals, so callers pass ids as they have them.
psycopg2.extensions.register_adapter(uuid.UUID, psycopg2.extras.UUID_adapter)

# Errors that mean "the database is unreachable or too slow right now", not "a bug".
UNAVAILABLE = (
    psycopg2.OperationalError,  # also covers QueryCanceled (statement_timeout), LockNotAvailable
    psycopg2.InterfaceError,  # connection already closed
    # A write reached a standby: during a failover, a connection still on the old primary
    # that came back as a standby (make cluster routes only to the primary; this is the
    # belt to those braces). The connection is dropped, the client retries.
    psycopg2.errors.ReadOnlySqlTransaction,
)


class Tx:
    """Runs named queries on one connection; rows come back as dicts.

    `prelude` is sent before each statement in the same round trip (the SET LOCALs behind a
    pooler); `prepare` allows server-side prepared statements (a direct connection only)."""

    __slots__ = ("conn", "prelude", "prepare")

    def __init__(self, conn, prelude: str = "", prepare: bool = True):
        self.conn = conn
        self.prelude = prelude
        self.prepare = prepare

    def _run(self, query: Query, params: dict):
        cur = self.conn.cursor()
        try:
            prepared = query.prepared if self.prepare else None
            if prepared is None:
                cur.execute(self.prelude + query.text, params)
            else:
                if prepared.name not in self.conn.prepared:
                    cur.execute(prepared.prepare_sql)
                    self.conn.prepared.add(prepared.name)
                cur.execute(prepared.execute_sql, params)
        except ValueError as exc:  # psycopg2 refuses NUL characters in text parameters
            if "NUL" not in str(exc):
                raise
            raise ValidationFailed({"_request": ["Text must not contain NUL (0x00) characters."]}) from None
        return cur

    def one(self, query: Query, **params) -> dict | None:
        cur = self._run(query, params)
        row = cur.fetchone() if cur.description else None
        if row is None:
            return None
        return dict(zip([c.name for c in cur.description], row))

    def all(self, query: Query, **params) -> list[dict]:
        cur = self._run(query, params)
        if not cur.description:
            return []
        names = [c.name for c in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def execute(self, query: Query, **params) -> int:
        return self._run(query, params).rowcount


class _Connection(psycopg2.extensions.connection):
    """A connection that remembers which statements it has PREPAREd."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.prepared: set[str] = set()


class _Pool(psycopg2.pool.ThreadedConnectionPool):
    """Connects on demand (none at start), and keeps every returned connection for reuse.

    psycopg2's pool keeps at most `minconn` idle connections and closes the rest on
    `putconn`, but it also opens `minconn` connections eagerly in its constructor. So: build
    with minconn=0 (nothing opened until a request needs it), then raise the keep limit.
    """

    def __init__(self, maxconn, *args, **kwargs):
        super().__init__(0, maxconn, *args, **kwargs)
        self.minconn = maxconn


class Database:
    def __init__(self, settings):
        self.dsn = settings.database_url
        self.size = settings.db_pool_size
        self.wait_seconds = settings.db_pool_timeout_ms / 1000
        self.retry_after = settings.retry_after_seconds
        self.pooled = settings.db_pooler == "transaction"
        session = {
            "statement_timeout": str(settings.db_statement_timeout_ms),
            "lock_timeout": str(settings.db_lock_timeout_ms),
            "idle_in_transaction_session_timeout": "10000",
            "TimeZone": "UTC",
        }
        self.connect_kwargs = {"application_name": "ticketing", "connect_timeout": 3}
        if self.pooled:
            # Sent with every statement and every BEGIN: the session is not ours.
            self.prelude = "".join(f"SET LOCAL {name} = '{value}'; " for name, value in session.items())
        else:
            self.prelude = ""
            self.connect_kwargs["options"] = " ".join(f"-c {name}={value}" for name, value in session.items())
        self._pool = None
        self._pid = None
        self._slots = threading.BoundedSemaphore(self.size)
        self._lock = threading.Lock()
        self._local = threading.local()  # this thread's open transaction, if any

    def _get_pool(self):
        # Created lazily in the process that uses it, so gunicorn workers never share a
        # socket opened before the fork.
        pid = os.getpid()
        if self._pid != pid:
            with self._lock:
                if self._pid != pid:
                    self._pool = _Pool(
                        self.size, self.dsn, connection_factory=_Connection, **self.connect_kwargs
                    )
                    self._slots = threading.BoundedSemaphore(self.size)
                    self._pid = pid
        return self._pool

    def unavailable(self, detail: str, reason: str) -> ServiceUnavailable:
        metrics.count(metrics.DB_UNAVAILABLE.labels(reason))
        return ServiceUnavailable(detail, retry_after=self.retry_after)

    @contextmanager
    def connection(self):
        pool = self._get_pool()
        # psycopg2's pool raises instead of waiting when empty: the semaphore is the queue.
        started = time.perf_counter()
        acquired = self._slots.acquire(timeout=self.wait_seconds)
        metrics.observe(metrics.POOL_WAIT, time.perf_counter() - started)
        if not acquired:
            raise self.unavailable("All database connections are busy; retry shortly", "pool_timeout")
        try:
            try:
                conn = pool.getconn()
                if not conn.autocommit:
                    conn.autocommit = True
            except UNAVAILABLE:
                raise self.unavailable("The database is unavailable; retry shortly", "connect") from None
            broken = False
            try:
                yield conn
            except UNAVAILABLE as exc:
                broken = conn.closed or not isinstance(
                    exc, (psycopg2.errors.QueryCanceled, psycopg2.errors.LockNotAvailable)
                )
                raise self.unavailable(*_describe(exc)) from exc
            except BaseException:
                broken = bool(conn.closed)
                raise
            finally:
                if not broken and not conn.closed:
                    status = conn.info.transaction_status
                    if status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                        try:  # autocommit: psycopg2's rollback() would be a no-op
                            conn.cursor().execute("ROLLBACK")
                        except psycopg2.Error:
                            broken = True
                pool.putconn(conn, close=broken or bool(conn.closed))
        finally:
            self._slots.release()

    @contextmanager
    def transaction(self):
        """BEGIN ... COMMIT on one connection; an exception rolls back (in connection()).

        While it is open, every query this thread runs through `one`/`all`/`execute` (so
        every repository function) runs in it; a transaction opened inside joins it."""
        active = getattr(self._local, "tx", None)
        if active is not None:
            yield active
            return
        with self.connection() as conn:
            cur = conn.cursor()
            cur.execute("BEGIN; " + self.prelude if self.prelude else "BEGIN")
            tx = self._local.tx = Tx(conn, prepare=not self.pooled)
            try:
                yield tx
            finally:
                self._local.tx = None
            cur.execute("COMMIT")

    def one(self, query: Query, **params) -> dict | None:
        tx = getattr(self._local, "tx", None)
        if tx is not None:
            return tx.one(query, **params)
        with self.connection() as conn:
            return Tx(conn, self.prelude, not self.pooled).one(query, **params)

    def all(self, query: Query, **params) -> list[dict]:
        tx = getattr(self._local, "tx", None)
        if tx is not None:
            return tx.all(query, **params)
        with self.connection() as conn:
            return Tx(conn, self.prelude, not self.pooled).all(query, **params)

    def execute(self, query: Query, **params) -> int:
        tx = getattr(self._local, "tx", None)
        if tx is not None:
            return tx.execute(query, **params)
        with self.connection() as conn:
            return Tx(conn, self.prelude, not self.pooled).execute(query, **params)

    def close(self):
        if self._pool is not None and self._pid == os.getpid():
            self._pool.closeall()
            self._pool = None
            self._pid = None


def _describe(exc) -> tuple[str, str]:
    """The detail for the client and the reason label of ticketing_db_unavailable_total."""
    if isinstance(exc, psycopg2.errors.QueryCanceled):
        return "The database took too long to answer; retry shortly", "timeout"
    if isinstance(exc, psycopg2.errors.LockNotAvailable):
        return "The data is busy; retry shortly", "lock"
    return "The database is unavailable; retry shortly", "down"


def current() -> Database:
    return current_app.extensions["ticketing.db"]
