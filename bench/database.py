"""Step 1: a fresh `ticketing_bench` database (embedded server, or `<DATABASE_URL db>_bench`),
migrated; and the few queries the other steps ask of it."""

import os
import shutil
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg2

from ticketing import devdb

BENCH_DB = "ticketing_bench"


def bench_target() -> tuple[str, str]:
    """The benchmark database's URL and the pgbench that belongs to its server."""
    if os.environ.get("DATABASE_URL"):
        url = os.environ["DATABASE_URL"]
        pgbench = shutil.which("pgbench")
        if pgbench is None:
            raise SystemExit("pgbench is not on PATH (install postgresql-client)")
        return devdb.with_database(url, devdb.database_name(url) + "_bench"), pgbench
    return devdb.embedded_url(BENCH_DB), str(devdb.pg_bin_dir() / "pgbench")


def recreate(url: str) -> None:
    conn = connect(devdb.with_database(url, "postgres"))
    conn.cursor().execute(f'DROP DATABASE IF EXISTS "{devdb.database_name(url)}" WITH (FORCE)')
    conn.close()
    devdb.migrate(url, dump_schema=False)  # dbmate creates it


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


def connect(url: str):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    return conn


def scalar(conn, query: str, params=None):
    cur = conn.cursor()
    cur.execute(query, params)
    return cur.fetchone()[0]


def count_orders(conn, event_id: str) -> int:
    return scalar(conn, "SELECT count(*) FROM orders WHERE event_id = %s", (event_id,))


def wait_drained(conn, event_id: str, timeout: float = 15.0) -> int:
    """wrk stops without reading the last responses: let the server finish them."""
    last, deadline = count_orders(conn, event_id), time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = count_orders(conn, event_id)
        if now == last:
            return now
        last = now
    return last
