"""PgBouncer in transaction pooling mode in front of the tests' database, as `make cluster`
runs it (ticketing/pooler.py writes the same configuration for both)."""

from __future__ import annotations

from tests.support.servers import free_port
from ticketing import pooler


def start_pgbouncer(database_url: str, pool_size: int = 1) -> pooler.Front:
    """PgBouncer on a free loopback port, pooling `database_url`'s server; `url` is that
    database through it. pool_size=1: every client shares one server connection, so any
    session state one client left behind would show in the next one's."""
    return pooler.start_in_front(database_url, pool_size, free_port())
