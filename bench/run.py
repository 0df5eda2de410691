"""The purchase benchmark: `make bench` (flags: BENCH_ARGS="--duration 20 --connections 64").

1. a fresh `ticketing_bench` database (embedded server, or `<DATABASE_URL db>_bench`), migrated;
2. the API under gunicorn with production settings (WEB_CONCURRENCY, DB_POOL_SIZE,
   GUNICORN_WORKER_CLASS and GUNICORN_THREADS pass through from the environment);
3. one hot event and N users inserted by SQL, their tokens minted directly;
4. wrk: 3 s warm-up, then the measured run of POST /api/v1/orders;
5. the oversell check from the database;
6. pgbench on the same PostgreSQL at the app's database concurrency: (a) the app's own
   purchase statement (sql/orders/purchase.sql), (b) the textbook transaction
   (bench/textbook.sql), each on its own fresh hot event;
7. a summary, also written to bench/out/result-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import runpy
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2

from ticketing import devdb, sql
from ticketing.config import REPO_ROOT, load_settings
from ticketing.security import issue_token

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"  # git-ignored
ORDERS_PATH = "/api/v1/orders"
BENCH_DB = "ticketing_bench"
# An extra_headers value meaning "a fresh value on every request" (e.g. Idempotency-Key).
UNIQUE = "<unique per request>"


# --- tools and database -------------------------------------------------------------------


def ensure_wrk() -> str:
    if shutil.which("wrk"):
        return shutil.which("wrk")
    if shutil.which("apt-get") is None:
        raise SystemExit("wrk is not installed and there is no apt-get to install it: install wrk")
    sudo = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if sudo is None:
        raise SystemExit("wrk is not installed and installing it needs root: apt-get install wrk")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*sudo, "apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.call(install, env=env) != 0:
        subprocess.call([*sudo, "apt-get", "update", "-q"], env=env)
        if subprocess.call(install, env=env) != 0:
            raise SystemExit("could not install wrk with apt-get: install it by hand")
    if shutil.which("wrk") is None:
        raise SystemExit("apt-get reported success but wrk is still not on PATH")
    print("installed wrk from Debian (apt-get install wrk)", flush=True)
    return shutil.which("wrk")


def bench_target() -> tuple[str, str]:
    """The benchmark database's URL and the pgbench that belongs to its server."""
    if os.environ.get("DATABASE_URL"):
        url = os.environ["DATABASE_URL"]
        pgbench = shutil.which("pgbench")
        if pgbench is None:
            raise SystemExit("pgbench is not on PATH (install postgresql-client)")
        return devdb.with_database(url, devdb.database_name(url) + "_bench"), pgbench
    return devdb.embedded_url(BENCH_DB), str(devdb.pg_bin_dir() / "pgbench")


def recreate_database(url: str) -> None:
    conn = psycopg2.connect(devdb.with_database(url, "postgres"))
    conn.autocommit = True
    name = devdb.database_name(url)
    conn.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
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


def create_users(conn, count: int) -> tuple[str, list[str]]:
    """One admin and `count` users, with a dummy password hash (no bcrypt per user)."""
    admin_id = scalar(
        conn,
        "INSERT INTO users (name, email, password_hash, role)"
        " VALUES ('Bench Admin', 'bench-admin@example.com', 'not-a-bcrypt-hash', 'admin') RETURNING id",
    )
    cur = conn.cursor()
    cur.execute(
        "INSERT INTO users (name, email, password_hash)"
        " SELECT 'Bench User ' || i, 'bench-user-' || i || '@example.com', 'not-a-bcrypt-hash'"
        "   FROM generate_series(1, %s) AS i RETURNING id",
        (count,),
    )
    return admin_id, [row[0] for row in cur.fetchall()]


def create_hot_event(conn, admin_id: str, name: str) -> str:
    return scalar(
        conn,
        "INSERT INTO events (name, location, organization, rating, date, capacity, remaining,"
        "                    price, max_per_order, created_by)"
        " VALUES (%s, 'Bench Arena', 'Bench', 'G', now() + interval '1 year', 1000000, 1000000,"
        "         100.00, 10, %s) RETURNING id",
        (name, admin_id),
    )


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


# --- the API under gunicorn --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def effective_settings(env: dict) -> dict:
    """Workers, class, threads and pool size as gunicorn.conf.py and ticketing.config see them."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        conf = runpy.run_path(str(REPO_ROOT / "gunicorn.conf.py"))
        app_settings = load_settings(env)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    worker_class = conf["worker_class"]
    if worker_class == "sync" and conf["threads"] > 1:  # gunicorn switches to gthread itself
        worker_class = "gthread"
    per_worker = min(conf["threads"] if worker_class == "gthread" else 1, app_settings.db_pool_size)
    return {
        "workers": conf["workers"],
        "worker_class": worker_class,
        "threads": conf["threads"],
        "pool_size": app_settings.db_pool_size,
        "db_concurrency": conf["workers"] * per_worker,
        "hold_seconds": app_settings.order_hold_seconds,
    }


def start_api(env: dict, log_path: Path, err_path: Path, base_url: str) -> subprocess.Popen:
    with open(log_path, "ab") as log, open(err_path, "ab") as err:  # O_APPEND: many workers
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=err,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}:\n{err_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(base_url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return proc
        except OSError:
            pass
        time.sleep(0.2)
    stop_api(proc)
    raise SystemExit(f"gunicorn did not answer /healthz within 60 s; see {err_path}")


def stop_api(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def server_statuses(log_path: Path, offset: int) -> dict[str, int]:
    """Statuses of POST /api/v1/orders in the app's JSON request log, from byte `offset`."""
    counts: dict[str, int] = {}
    with open(log_path, "rb") as log:
        log.seek(offset)
        for line in log:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("method") == "POST" and entry.get("path") == ORDERS_PATH:
                status = str(entry.get("status"))
                counts[status] = counts.get(status, 0) + 1
    return counts


# --- wrk ---------------------------------------------------------------------------------


def lua(value) -> str:
    """A Lua literal for a string, a list of strings or a dict of strings (ASCII only)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{lua(k)}] = {lua(v)}" for k, v in value.items()) + "}"
    return "{\n" + "".join(f"  {lua(v)},\n" for v in value) + "}"


def run_wrk(
    label: str,
    base_url: str,
    tokens: list[str],
    event_id: str,
    duration: int,
    connections: int,
    threads: int = 2,
    extra_headers: dict[str, str] | None = None,
) -> dict:
    """One wrk run against POST /api/v1/orders. `extra_headers` are added to every request;
    a value of UNIQUE gets a fresh value per request (e.g. {"Idempotency-Key": UNIQUE})."""
    extra_headers = extra_headers or {}
    threads = min(threads, connections)
    template = string.Template((BENCH_DIR / "purchase.lua").read_text())
    script = OUT_DIR / f"wrk-{label}.lua"
    script.write_text(
        template.substitute(
            tokens=lua(tokens),
            body=lua(json.dumps({"event_id": str(event_id), "quantity": 1})),
            path=lua(ORDERS_PATH),
            static_headers=lua({k: v for k, v in extra_headers.items() if v != UNIQUE}),
            unique_headers=lua([k for k, v in extra_headers.items() if v == UNIQUE]),
            nonce=lua(f"{label}-{secrets.token_hex(6)}"),
            nthreads=threads,
        )
    )
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    command += ["-s", str(script), base_url + ORDERS_PATH]
    print(f"[{label}] {' '.join(command)}", flush=True)
    done = subprocess.run(command, capture_output=True, text=True)
    (OUT_DIR / f"wrk-{label}.txt").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return parse_wrk(done.stdout)


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def parse_wrk(text: str) -> dict:
    latency = {
        f"p{p}_ms": round(float(v) * _UNIT_MS[unit], 3)
        for p, v, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M)
    }
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    statuses = re.search(r"^STATUSES(.*)$", text, re.M)
    return {
        "requests_per_s": float(rps.group(1)) if rps else None,
        **latency,
        "statuses": dict(part.split("=") for part in statuses.group(1).split()) if statuses else {},
        "socket_errors": dict(zip(("connect", "read", "write", "timeout"), map(int, errors.groups())))
        if errors
        else {},
    }


# --- pgbench -----------------------------------------------------------------------------


def pgbench_variables(params: dict, required=(), quoted=True) -> dict[str, str]:
    """pgbench -D values. -M simple splices variables into the text as they are, so they
    are SQL literals as psycopg2 renders them (quoted=True); -M prepared sends them as
    parameters (quoted=False). pgbench cannot send NULL: None values are left out here and
    written into the statement instead (ticketing.sql.to_pgbench's `inline`)."""
    missing = sorted(set(required) - set(params))
    if missing:
        raise SystemExit(f"sql/orders/purchase.sql uses {missing}: give them values in bench/run.py")
    if quoted:
        return {name: psycopg2.extensions.adapt(value).getquoted().decode() for name, value in params.items()}
    return {name: str(value) for name, value in params.items() if value is not None}


def run_pgbench(label, pgbench, url, script: Path, clients, duration, variables: dict, mode="simple") -> dict:
    command = [pgbench, "-n", "-M", mode, "-c", str(clients), "-j", str(min(clients, os.cpu_count()))]
    command += ["-T", str(duration), "-f", str(script)]
    for name, value in variables.items():
        command += ["-D", f"{name}={value}"]
    print(f"[{label}] {' '.join(command)} {redact(url)}", flush=True)
    command.append(url)
    env = {**os.environ, "PGOPTIONS": "-c synchronous_commit=on"}  # durable commits
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    (OUT_DIR / f"pgbench-{label}.txt").write_text(done.stdout + done.stderr)
    tps = re.search(r"^tps = ([\d.]+) \(without initial connection time\)", done.stdout, re.M)
    latency = re.search(r"^latency average = ([\d.]+) ms", done.stdout, re.M)
    processed = re.search(r"^number of transactions actually processed: (\d+)", done.stdout, re.M)
    error = None
    if done.returncode != 0 or tps is None:
        error = f"pgbench exited {done.returncode}: {(done.stderr or done.stdout).strip()[-500:]}"
    return {
        "tps": float(tps.group(1)) if tps else None,
        "latency_avg_ms": float(latency.group(1)) if latency else None,
        "transactions": int(processed.group(1)) if processed else None,
        "error": error,
    }


# --- checks and report -------------------------------------------------------------------


def oversell_check(conn, event_id, wrk_201, server_201, new_orders, connections) -> dict:
    cur = conn.cursor()
    cur.execute(sql.to_psycopg(sql.path_of("orders/invariant_violations").read_text()), {})
    violations = [dict(zip([c.name for c in cur.description], row)) for row in cur.fetchall()]
    cur.execute(
        "SELECT e.capacity - e.remaining,"
        "       (SELECT count(*) FROM tickets t WHERE t.event_id = e.id AND t.status <> 'CANCELLED')"
        "  FROM events e WHERE e.id = %s",
        (event_id,),
    )
    taken, live = cur.fetchone()
    checks = {
        "invariant_violations": len(violations),
        "capacity_minus_remaining": taken,
        "live_tickets": live,
        "books_balance": not violations and taken == live,
        # The app logs every answer: its 201s must be exactly the new orders.
        "server_201_equals_new_orders": server_201 == new_orders,
        # wrk stops without reading the responses in flight (at most one per connection).
        "wrk_201_within_new_orders": wrk_201 <= new_orders <= wrk_201 + connections,
    }
    checks["pass"] = all(v for k, v in checks.items() if isinstance(v, bool))
    if violations:
        checks["violations"] = [{k: str(v) for k, v in row.items()} for row in violations]
    return checks


def machine_info(conn) -> dict:
    with open("/proc/meminfo") as meminfo:
        mem_kb = int(re.search(r"MemTotal:\s+(\d+)", meminfo.read()).group(1))
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "postgresql": scalar(conn, "SHOW server_version"),
        "fsync": scalar(conn, "SHOW fsync"),
        "synchronous_commit": scalar(conn, "SHOW synchronous_commit"),
        "python": platform.python_version(),
        "wrk": (wrk_version.stdout + wrk_version.stderr).split("\n")[0].strip(),
    }


def ratio(a, b):
    return round(a / b, 2) if a and b else None


def pgbench_line(run: dict, clients: int) -> str:
    line = (
        f"{run['tps']} tps at {clients} clients, -M {run.get('mode')}"
        f" (avg {run['latency_avg_ms']} ms, {run['orders']} orders)"
    )
    return line + (f"  ERROR {run['error']}" if run["error"] else "")


def print_summary(r: dict) -> None:
    m, s, api, checks = r["machine"], r["settings"], r["api"], r["api"]["oversell_check"]
    a, b = r["pgbench_purchase_sql"], r["pgbench_textbook"]
    lines = [
        "",
        "=" * 78,
        f"purchase benchmark  ({r['timestamp']})",
        "=" * 78,
        f"machine      nproc {m['nproc']}, {m['memory_gib']} GiB, PostgreSQL {m['postgresql']}"
        f" (fsync={m['fsync']}, synchronous_commit={m['synchronous_commit']}), Python {m['python']},"
        f" {m['wrk']}",
        f"settings     {s['workers']} workers x {s['worker_class']} x {s['threads']} threads,"
        f" DB_POOL_SIZE {s['pool_size']} -> DB concurrency {s['db_concurrency']};"
        f" wrk -t{s['wrk_threads']} -c{s['connections']} -d{s['duration']}s, {s['users']} users",
        f"API          {api['purchases_per_s']:.0f} purchases/s ({api['new_orders']} orders in"
        f" {s['duration']} s), {api['requests_per_s']} requests/s",
        f"latency      p50 {api.get('p50_ms')} ms, p90 {api.get('p90_ms')} ms, p99 {api.get('p99_ms')} ms"
        " (wrk is closed-loop: tail latency hides coordinated omission)",
        f"statuses     wrk: 201={api['status_201']} 409={api['status_409']} other={api['status_other']}"
        f" {api['other_statuses'] or ''} socket errors={api['socket_errors']};"
        f" server log: {api['server_statuses']}",
        f"oversell     {'PASS' if checks['pass'] else 'FAIL'}: capacity-remaining"
        f" {checks['capacity_minus_remaining']} = live tickets {checks['live_tickets']},"
        f" invariant violations {checks['invariant_violations']}, server 201s = new orders:"
        f" {checks['server_201_equals_new_orders']}, wrk 201s <= new orders <= wrk 201s + connections:"
        f" {checks['wrk_201_within_new_orders']}",
        *[
            f"{label:<22} {run['purchases_per_s']:.0f} purchases/s"
            f" ({run['purchases_per_s'] / api['purchases_per_s']:.2f} x api),"
            f" p50 {run.get('p50_ms')} ms, p99 {run.get('p99_ms')} ms,"
            f" oversell {'PASS' if run['oversell_check']['pass'] else 'FAIL'}"
            for label, run in r["api_runs"].items()
            if label != "api"
        ],
        f"pgbench (a)  sql/orders/purchase.sql: {pgbench_line(a, s['db_concurrency'])}",
        f"pgbench (b)  bench/textbook.sql:      {pgbench_line(b, s['db_concurrency'])}",
        f"ratios       API/(a) = {r['ratios']['api_over_purchase_sql']},"
        f" API/(b) = {r['ratios']['api_over_textbook']}",
        f"result       {r['result_file']}",
        "=" * 78,
    ]
    print("\n".join(lines), flush=True)


# --- main --------------------------------------------------------------------------------


def measure(env, conn, tokens, admin_id, opts, runs) -> dict:
    """Start gunicorn with `env`, then for each (label, extra_headers) warm up and measure
    POST /api/v1/orders on a fresh hot event, with the oversell check of that event."""
    log_path = OUT_DIR / "gunicorn.log"  # the app's JSON request log (stdout)
    err_path = OUT_DIR / "gunicorn.err"
    log_path.write_bytes(b"")
    err_path.write_bytes(b"")
    base_url = f"http://127.0.0.1:{env['PORT']}"
    proc = start_api(env, log_path, err_path, base_url)
    results = {}
    try:
        print(f"API up on {base_url} (request log {log_path.relative_to(REPO_ROOT)})", flush=True)
        for label, headers in runs:
            event = create_hot_event(conn, admin_id, f"Bench hot event ({label})")
            run_wrk(
                f"{label}-warmup",
                base_url,
                tokens,
                event,
                opts.warmup,
                opts.connections,
                opts.threads,
                headers,
            )
            before = wait_drained(conn, event)
            log_offset = log_path.stat().st_size
            api = run_wrk(
                label, base_url, tokens, event, opts.duration, opts.connections, opts.threads, headers
            )
            after = wait_drained(conn, event)
            server = server_statuses(log_path, log_offset)
            wrk_statuses = api.pop("statuses")
            others = {k: v for k, v in wrk_statuses.items() if k not in ("201", "409")}
            api.update(
                new_orders=after - before,
                purchases_per_s=(after - before) / opts.duration,
                status_201=int(wrk_statuses.get("201", 0)),
                status_409=int(wrk_statuses.get("409", 0)),
                status_other=sum(map(int, others.values())),
                other_statuses=others,
                server_statuses=server,
            )
            api["oversell_check"] = oversell_check(
                conn, event, api["status_201"], server.get("201", 0), after - before, opts.connections
            )
            results[label] = api
    finally:
        stop_api(proc)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds per measured run (20)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of wrk warm-up (3)")
    parser.add_argument("--users", type=int, default=1000, help="users (and tokens) to rotate (1000)")
    parser.add_argument(
        "--quick", action="store_true", help="only the plain API run and pgbench (no keys, no sweep runs)"
    )
    opts = parser.parse_args(argv)

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    ensure_wrk()
    url, pgbench = bench_target()
    print(f"fresh benchmark database {redact(url)}", flush=True)
    recreate_database(url)
    conn = connect(url)

    jwt_secret = secrets.token_urlsafe(48)
    env = {
        **os.environ,
        "APP_ENV": "production",
        "JWT_SECRET": jwt_secret,
        "WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "DATABASE_URL": url,
        "PORT": str(free_port()),
        "HOST": "127.0.0.1",
    }
    settings = effective_settings(env)
    settings.update(duration=opts.duration, connections=opts.connections, wrk_threads=opts.threads)
    settings["users"] = opts.users
    print(f"settings: {settings}", flush=True)

    admin_id, user_ids = create_users(conn, opts.users)
    tokens = [issue_token(user_id, "user", jwt_secret, ttl=3600) for user_id in user_ids]

    # 1. The API as configured (the expiry sweep runs, nothing is due yet), without and
    #    with a unique Idempotency-Key per request.
    runs = (
        [("api", None)]
        if opts.quick
        else [("api", None), ("api-idempotency-keys", {"Idempotency-Key": UNIQUE})]
    )
    apis = measure(env, conn, tokens, admin_id, opts, runs)
    if not opts.quick:
        # 2. The sweep's cost: no sweep at all, against holds of 2 s expiring all through
        #    the run (every worker sweeping every EXPIRY_SWEEP_MS while buyers buy).
        apis.update(
            measure({**env, "EXPIRY_SWEEP_MS": "0"}, conn, tokens, admin_id, opts, [("api-no-sweep", None)])
        )
        apis.update(
            measure(
                {**env, "ORDER_HOLD_SECONDS": "2"},
                conn,
                tokens,
                admin_id,
                opts,
                [("api-holds-expiring", None)],
            )
        )
    api = apis["api"]

    # pgbench, each script on its own fresh hot event, with the parameters the app passes.
    purchase_sql = sql.path_of("orders/purchase").read_text()
    purchase_script = OUT_DIR / "pgbench-purchase.sql"
    required = re.findall(r"(?<!:):'([A-Za-z_]\w*)'", purchase_sql)
    params = {
        "user_id": str(user_ids[0]),
        "quantity": 1,
        "hold_seconds": settings["hold_seconds"],
        "token_version": 0,  # the bench users' password never changes
        "idempotency_key": None,
        "request_hash": None,
    }
    nulls = {name: "NULL" for name, value in params.items() if value is None}
    purchase_script.write_text(sql.to_pgbench(purchase_sql, inline=nulls))
    runs = {}
    # (a) runs the statement the way the app does, as a prepared statement (planned once
    # per connection); (b) the way the Go service's driver did, planned on every call.
    for label, script, mode in (
        ("purchase", purchase_script, "prepared"),
        ("textbook", BENCH_DIR / "textbook.sql", "simple"),
    ):
        event_id = str(create_hot_event(conn, admin_id, f"Bench hot event (pgbench {label})"))
        quoted = mode == "simple"
        variables = pgbench_variables({**params, "event_id": event_id}, required if quoted else (), quoted)
        run = run_pgbench(
            label, pgbench, url, script, settings["db_concurrency"], opts.duration, variables, mode
        )
        run["mode"] = mode
        run["orders"] = count_orders(conn, event_id)
        if run["error"] is None and run["orders"] != run["transactions"]:  # a script that sold nothing
            run["error"] = f"{run['transactions']} transactions but {run['orders']} orders"
        runs[label] = run
    a, b = runs["purchase"], runs["textbook"]

    result_file = OUT_DIR / f"result-{stamp}.json"
    result = {
        "timestamp": stamp,
        "machine": machine_info(conn),
        "settings": settings,
        "api": api,
        "api_runs": apis,
        "oversell_check": api["oversell_check"],
        "pgbench_purchase_sql": a,
        "pgbench_textbook": b,
        "ratios": {
            "api_over_purchase_sql": ratio(api["purchases_per_s"], a["tps"]),
            "api_over_textbook": ratio(api["purchases_per_s"], b["tps"]),
        },
        "result_file": str(result_file.relative_to(REPO_ROOT)),
    }
    conn.close()
    result_file.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print_summary(result)

    failures = []
    for label, run in apis.items():
        if not run["oversell_check"]["pass"]:
            failures.append(f"{label}: oversell check FAILED")
        if run["status_other"] or any(k not in ("201", "409") for k in run["server_statuses"]):
            failures.append(
                f"{label}: statuses other than 201/409:"
                f" wrk {run['other_statuses']}, server {run['server_statuses']}"
            )
        if any(run["socket_errors"].values()):
            failures.append(f"{label}: wrk socket errors: {run['socket_errors']}")
    for label, run in (("(a)", a), ("(b)", b)):
        if run["error"]:
            failures.append(f"pgbench {label}: {run['error']}")
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
