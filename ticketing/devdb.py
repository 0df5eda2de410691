"""The database a command runs against, and its migrations.

With DATABASE_URL set, that database is used and nothing is started; migrations use
MIGRATION_DATABASE_URL (the tables' owner) when set, else DATABASE_URL too, exactly as
before. Without DATABASE_URL, an embedded PostgreSQL (the `pgserver` package) runs from
`.devdata/pg`, kept between runs; `make run` serves the `ticketing` database and the
tests use `ticketing_test`. There too, migrations run as the owner (`postgres`) and the app
connects as `ticketing_web`, a member of `ticketing_app`, which may only read and write
rows (db/migrations/20261207000102_app_role.sql): development runs with production's rights.

    python -m ticketing.devdb run [--test] -- CMD...   migrate, then exec CMD with DATABASE_URL
    python -m ticketing.devdb dbmate [--test] -- ARGS  run dbmate against that database (as owner)
    python -m ticketing.devdb url [--test] [--owner]   print the app's (or the owner's) URL
    python -m ticketing.devdb stop                     stop the embedded server
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ticketing.config import DEFAULT_DEV_DATA_DIR, REPO_ROOT

MIGRATIONS_DIR = REPO_ROOT / "db" / "migrations"
SCHEMA_FILE = REPO_ROOT / "db" / "schema.sql"
DEV_DB = "ticketing"
TEST_DB = "ticketing_test"
APP_GROUP = "ticketing_app"  # the rights: created and granted by the migrations
DEV_APP_LOGIN = "ticketing_web"  # the embedded server's login in that group


def _data_dir() -> Path:
    return Path(os.environ.get("DEV_DATA_DIR") or DEFAULT_DEV_DATA_DIR) / "pg"


def pg_bin_dir() -> Path | None:
    """Client binaries (psql, pg_dump, pgbench) of the embedded server, if installed."""
    try:
        from pgserver._commands import POSTGRES_BIN_PATH
    except ImportError:
        return None
    return Path(POSTGRES_BIN_PATH)


def embedded_url(dbname: str, user: str = "postgres") -> str:
    """The embedded server's URL for `dbname`, as its superuser unless `user` is given."""
    import warnings

    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    import pgserver

    data_dir = _data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode=None)
    socket_dir = server.get_postmaster_info().socket_dir
    return f"postgresql://{user}@/{dbname}?host={socket_dir}"


def ensure_app_login(owner_url: str) -> None:
    """The embedded server's app login (`ticketing_web` in `ticketing_app`), once. Roles
    belong to the server, so every database on it shares them."""
    import psycopg2
    import psycopg2.errors

    statement = f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_GROUP}') THEN
                CREATE ROLE {APP_GROUP} NOLOGIN;
            END IF;
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{DEV_APP_LOGIN}') THEN
                CREATE ROLE {DEV_APP_LOGIN} LOGIN IN ROLE {APP_GROUP};
            END IF;
        END
        $$"""
    conn = psycopg2.connect(with_database(owner_url, "postgres"))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            try:
                cur.execute(statement)
            except (psycopg2.errors.UniqueViolation, psycopg2.errors.DuplicateObject):
                pass  # another process created it at the same moment
    finally:
        conn.close()


def embedded_app_url(dbname: str) -> str:
    owner = embedded_url(dbname)
    ensure_app_login(owner)
    return embedded_url(dbname, DEV_APP_LOGIN)


def with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "postgres"


def resolve_url(test: bool = False) -> str:
    """The libpq URL the app should use (see module docstring)."""
    if test:
        if os.environ.get("TEST_DATABASE_URL"):
            return os.environ["TEST_DATABASE_URL"]
        if os.environ.get("DATABASE_URL"):
            url = os.environ["DATABASE_URL"]
            return with_database(url, database_name(url) + "_test")
        return embedded_app_url(TEST_DB)
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    if os.environ.get("APP_ENV") == "production":
        raise SystemExit(
            "APP_ENV=production needs DATABASE_URL: the embedded database is for development only"
        )
    return embedded_app_url(DEV_DB)


def resolve_owner_url(test: bool = False) -> str:
    """The URL migrations (and the tests' own set-up) use: MIGRATION_DATABASE_URL (for the
    tests, on the test database), else the app's URL when DATABASE_URL is set (one role,
    exactly as before), else the embedded server's superuser."""
    migration_url = os.environ.get("MIGRATION_DATABASE_URL")
    if migration_url:
        return with_database(migration_url, database_name(resolve_url(test=True))) if test else migration_url
    if os.environ.get("DATABASE_URL") or (test and os.environ.get("TEST_DATABASE_URL")):
        return resolve_url(test=test)
    if os.environ.get("APP_ENV") == "production":
        raise SystemExit(
            "APP_ENV=production needs DATABASE_URL: the embedded database is for development only"
        )
    return embedded_url(TEST_DB if test else DEV_DB)


def dbmate_url(url: str) -> str:
    """dbmate names a unix-socket directory `socket=`, libpq names it `host=`."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    if query.get("host", "").startswith("/"):
        query["socket"] = query.pop("host")
        query.setdefault("sslmode", "disable")
    scheme = "postgres" if parts.scheme in ("postgres", "postgresql") else parts.scheme
    return urlunsplit(parts._replace(scheme=scheme, query=urlencode(query, safe="/")))


def dbmate(url: str, *args: str, dump_schema: bool = True) -> int:
    exe = shutil.which("dbmate") or str(Path(sys.executable).parent / "dbmate")
    env = dict(os.environ)
    bin_dir = pg_bin_dir()
    if bin_dir is not None:  # pg_dump for db/schema.sql
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    if not dump_schema or shutil.which("pg_dump", path=env["PATH"]) is None:
        args = ("--no-dump-schema", *args)
    command = [
        exe,
        "--url",
        dbmate_url(url),
        "--migrations-dir",
        str(MIGRATIONS_DIR),
        "--schema-file",
        str(SCHEMA_FILE),
        *args,
    ]
    return subprocess.call(command, env=env)


def migrate(url: str, dump_schema: bool = True) -> None:
    if dbmate(url, "--wait", "up", dump_schema=dump_schema) != 0:
        raise SystemExit("migrations failed")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ticketing.devdb")
    parser.add_argument("action", choices=["run", "dbmate", "url", "stop"])
    parser.add_argument("--test", action="store_true", help="use the test database")
    parser.add_argument("--owner", action="store_true", help="url: the owner's (migrations') URL")
    argv = list(sys.argv[1:] if argv is None else argv)
    rest = argv[argv.index("--") + 1 :] if "--" in argv else []
    opts = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)

    if opts.action == "stop":
        pg_ctl = (pg_bin_dir() or Path()) / "pg_ctl"
        data_dir = _data_dir()
        if (data_dir / "postmaster.pid").exists():
            owner = data_dir.stat().st_uid
            cmd = [str(pg_ctl), "-D", str(data_dir), "-m", "fast", "-w", "stop"]
            if os.geteuid() == 0 and owner != 0:  # pgserver runs the server as its own user
                import pwd

                cmd = ["su", pwd.getpwuid(owner).pw_name, "-s", "/bin/sh", "-c", " ".join(cmd)]
            subprocess.call(cmd)
        return

    if opts.action == "url":
        print(resolve_owner_url(test=opts.test) if opts.owner else resolve_url(test=opts.test))
    elif opts.action == "dbmate":
        raise SystemExit(dbmate(resolve_owner_url(test=opts.test), *rest, dump_schema=not opts.test))
    elif opts.action == "run":
        owner = resolve_owner_url(test=opts.test)
        migrate(owner, dump_schema=not opts.test and "DATABASE_URL" not in os.environ)
        url = resolve_url(test=opts.test)
        if not rest:
            return
        os.environ["DATABASE_URL"] = url
        os.execvp(rest[0], rest)


if __name__ == "__main__":
    main()
