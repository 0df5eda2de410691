"""PgBouncer, as `make cluster` and the tests run it: Debian's package, transaction pooling.

The app behind it sets DB_POOLER=transaction (ticketing/db.py: no prepared statements,
no startup options, timeouts by SET LOCAL). The configuration is written here, from
keyword arguments, so the cluster and the tests run the very same file; docs/scaling.md
explains the numbers.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGES = {"pgbouncer": "pgbouncer"}


def find(program: str) -> str | None:
    return shutil.which(program) or shutil.which(program, path="/usr/sbin:/usr/bin:/usr/local/sbin:/sbin")


def ensure_packages(programs: dict[str, str], say=print) -> dict[str, str]:
    """Each program's path, installing the Debian package that brings it with apt-get when
    missing (as `make run` installs nginx). Raises RuntimeError, saying why, if impossible."""
    missing = {program: package for program, package in programs.items() if find(program) is None}
    if missing:
        packages = sorted(set(missing.values()))
        if shutil.which("apt-get") is None:
            raise RuntimeError(f"{', '.join(packages)} missing and there is no apt-get to install them")
        sudo = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
        if sudo is None:
            names = " ".join(packages)
            raise RuntimeError(f"installing {names} needs root: apt-get install {names}")
        # Debian starts a package's own service on install unless told not to (docker
        # images say so in policy-rc.d): ours run on their own ports and folders anyway.
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = [*sudo, "apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]
        say(f"installing Debian's {', '.join(packages)} (apt-get install)")
        if subprocess.call(install, env=env, stdout=sys.stderr) != 0:
            subprocess.call([*sudo, "apt-get", "update", "-q"], env=env, stdout=sys.stderr)
            if subprocess.call(install, env=env, stdout=sys.stderr) != 0:
                raise RuntimeError(f"could not install {', '.join(packages)} with apt-get")
    found = {program: find(program) for program in programs}
    lost = [program for program, path in found.items() if path is None]
    if lost:
        raise RuntimeError(f"apt-get reported success but {', '.join(lost)} cannot be found")
    return found


def run_as_for(path: Path) -> str | None:
    """The user to run a server as: as root, the owner of `path` (or `postgres`); PostgreSQL
    and PgBouncer refuse to run as root. None: the current user."""
    if os.geteuid() != 0:
        return None
    owner = pwd.getpwuid(path.stat().st_uid).pw_name if path.exists() else "root"
    return owner if owner != "root" else "postgres"


def pgbouncer_ini(
    *,
    run_dir: Path,
    listen_port: int,
    server_host: str,
    server_port: int,
    pool_size: int,
    users: list[str],
) -> Path:
    """Write PgBouncer's configuration (and its user list) into run_dir; the ini's path.

    Every database name is passed through to the server (`*`); authentication is `trust`
    on loopback (the cluster's PostgreSQL trusts loopback too); production uses
    `auth_type = scram-sha-256` with an `auth_query`, see docs/deployment.md."""
    run_dir.mkdir(parents=True, exist_ok=True)
    userlist = run_dir / "userlist.txt"
    userlist.write_text("".join(f'"{user}" ""\n' for user in users))
    ini = run_dir / "pgbouncer.ini"
    ini.write_text(
        f"""[databases]
* = host={server_host} port={server_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen_port}
unix_socket_dir =
pidfile = {run_dir / "pgbouncer.pid"}
logfile = {run_dir / "pgbouncer.log"}
auth_type = trust
auth_file = {userlist}
admin_users = postgres
; A server connection serves one transaction, then the next client's: the app keeps no
; session state (DB_POOLER=transaction).
pool_mode = transaction
; Server connections per (database, user): a hot row is fastest with few (docs/scaling.md).
default_pool_size = {pool_size}
reserve_pool_size = 0
max_client_conn = 2000
; A client waits at most this long for a server connection, then gets an error (the app
; answers 503): the app's own DB_POOL_TIMEOUT_MS is shorter, so it rarely comes to that.
query_wait_timeout = 10
; After a failover, the old server connections are dead: drop a server connection whose
; check fails, and retry connecting quickly.
server_check_delay = 1
server_login_retry = 1
server_connect_timeout = 3
server_lifetime = 3600
server_idle_timeout = 60
; psycopg2 sends none of these, other drivers do: ignore rather than refuse them.
ignore_startup_parameters = extra_float_digits
log_connections = 0
log_disconnections = 0
"""
    )
    return ini


def pgbouncer_command(pgbouncer: str, ini: Path, run_as: str | None, daemon: bool = False) -> list[str]:
    command = [pgbouncer]
    if daemon:
        command.append("-d")
    if run_as:
        command += ["-u", run_as]
    return [*command, str(ini)]


def chown_for(path: Path, run_as: str | None) -> None:
    """Give `path` (recursively) to the user a server runs as."""
    if run_as is None:
        return
    entry = pwd.getpwnam(run_as)
    for root, _dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)


class Front:
    """A PgBouncer this process started in front of a database (the tests, the bench)."""

    def __init__(self, process: subprocess.Popen, url: str, run_dir: Path):
        self.process = process
        self.url = url  # the same database, as the same user, through PgBouncer
        self.run_dir = run_dir

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(20)
        shutil.rmtree(self.run_dir, ignore_errors=True)


def start_in_front(database_url: str, pool_size: int, listen_port: int, timeout: float = 60) -> Front:
    """PgBouncer (transaction pooling, `pool_size` server connections) on 127.0.0.1:listen_port
    in front of `database_url`'s server, ready to serve; `Front.url` is that database
    through it. As root, it runs as the user owning the server's socket folder (or
    `postgres`): PgBouncer refuses to run as root."""
    import tempfile
    import time
    from urllib.parse import parse_qsl, urlsplit, urlunsplit

    import psycopg2

    program = ensure_packages(PACKAGES)["pgbouncer"]
    parts = urlsplit(database_url)
    query = dict(parse_qsl(parts.query))
    server_host = query.pop("host", None) or parts.hostname or "127.0.0.1"
    server_port = parts.port or int(query.pop("port", 5432))
    run_dir = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    run_as = run_as_for(Path(server_host)) if server_host.startswith("/") else run_as_for(run_dir)
    ini = pgbouncer_ini(
        run_dir=run_dir,
        listen_port=listen_port,
        server_host=server_host,
        server_port=server_port,
        pool_size=pool_size,
        users=sorted({parts.username or "postgres", "postgres"}),
    )
    chown_for(run_dir, run_as)
    with open(run_dir / "stderr.log", "w") as log:
        process = subprocess.Popen(
            pgbouncer_command(program, ini, run_as), stdout=subprocess.DEVNULL, stderr=log
        )
    netloc = f"{parts.username}@127.0.0.1:{listen_port}" if parts.username else f"127.0.0.1:{listen_port}"
    front = Front(process, urlunsplit(parts._replace(netloc=netloc, query="")), run_dir)
    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg2.connect(front.url, connect_timeout=2).close()
            return front
        except psycopg2.Error as exc:
            if process.poll() is not None or time.monotonic() > deadline:
                front.stop()
                raise RuntimeError(f"pgbouncer did not start ({exc}); see {run_dir}") from None
            time.sleep(0.1)
