"""PgBouncer in transaction pooling mode in front of the tests' database, as `make cluster`
runs it (ticketing/pooler.py writes the same configuration for both)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import psycopg2

from tests.support.servers import free_port, stop_process, wait_until_ready
from ticketing import pooler


class PgBouncer:
    def __init__(self, process: subprocess.Popen, url: str, run_dir: Path):
        self.process = process
        self.url = url  # the test database through PgBouncer, as the app's role
        self.run_dir = run_dir

    def stop(self) -> None:
        stop_process(self.process)


def start_pgbouncer(database_url: str, pool_size: int = 1) -> PgBouncer:
    """PgBouncer on a free loopback port, pooling `database_url`'s server; `url` is that
    database through it. pool_size=1: every client shares one server connection, so any
    session state one client left behind would show in the next one's."""
    (program,) = pooler.ensure_packages(pooler.PACKAGES).values()
    parts = urlsplit(database_url)
    query = dict(parse_qsl(parts.query))
    server_host = query.pop("host", None) or parts.hostname or "127.0.0.1"
    server_port = parts.port or int(query.pop("port", 5432))
    user = parts.username or "postgres"
    run_dir = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    # PgBouncer refuses to run as root: as root, run it as the database server's user (who
    # may open its unix socket).
    run_as = (
        pooler.run_as_for(Path(server_host)) if server_host.startswith("/") else pooler.run_as_for(run_dir)
    )
    port = free_port()
    ini = pooler.pgbouncer_ini(
        run_dir=run_dir,
        listen_port=port,
        server_host=server_host,
        server_port=server_port,
        pool_size=pool_size,
        users=sorted({user, "postgres"}),
    )
    pooler.chown_for(run_dir, run_as)
    log = run_dir / "stderr.log"
    with open(log, "w") as handle:
        process = subprocess.Popen(
            pooler.pgbouncer_command(program, ini, run_as), stdout=subprocess.DEVNULL, stderr=handle
        )
    netloc = f"{parts.username}@127.0.0.1:{port}" if parts.username else f"127.0.0.1:{port}"
    url = urlunsplit(parts._replace(netloc=netloc, query=""))

    def answers():
        psycopg2.connect(url, connect_timeout=2).close()
        return True

    try:
        wait_until_ready(process, answers, "pgbouncer", run_dir / "pgbouncer.log", not_yet=(psycopg2.Error,))
    except BaseException:
        stop_process(process)
        raise
    return PgBouncer(process, url, run_dir)
