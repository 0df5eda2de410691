"""Step 6: pgbench on the same PostgreSQL at the app's database concurrency: (a) the app's own
purchase statement (sql/orders/purchase.sql), (b) the textbook transaction
(bench/textbook.sql), each on its own fresh hot event."""

import os
import re
from pathlib import Path

import psycopg2

from bench import BENCH_DIR, OUT_DIR
from bench.database import count_orders, redact
from bench.output import run_keeping_output
from bench.seed import create_hot_event
from ticketing import sql


def ceilings(
    conn,
    *,
    pgbench: str,
    url: str,
    admin_id: str,
    user_id: str,
    hold_seconds: int,
    clients: int,
    duration: int,
) -> dict[str, dict]:
    """{"purchase": (a), "textbook": (b)}, each run with the parameters the app passes."""
    purchase_sql = sql.path_of("orders/purchase").read_text()
    purchase_script = OUT_DIR / "pgbench-purchase.sql"
    required = re.findall(r"(?<!:):'([A-Za-z_]\w*)'", purchase_sql)
    params = {
        "user_id": str(user_id),
        "quantity": 1,
        "hold_seconds": hold_seconds,
        "token_version": 0,  # the bench users' password never changes
        "idempotency_key": None,
        "request_hash": None,
        "queue_pass": None,  # the bench's hot event has no waiting room
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
        variables = variables_for({**params, "event_id": event_id}, required if quoted else (), quoted)
        run = run_script(label, pgbench, url, script, clients, duration, variables, mode)
        run["mode"] = mode
        run["orders"] = count_orders(conn, event_id)
        if run["error"] is None and run["orders"] != run["transactions"]:  # a script that sold nothing
            run["error"] = f"{run['transactions']} transactions but {run['orders']} orders"
        runs[label] = run
    return runs


def variables_for(params: dict, required=(), quoted=True) -> dict[str, str]:
    """pgbench -D values. -M simple splices variables into the text as they are, so they
    are SQL literals as psycopg2 renders them (quoted=True); -M prepared sends them as
    parameters (quoted=False). pgbench cannot send NULL: None values are left out here and
    written into the statement instead (ticketing.sql.to_pgbench's `inline`)."""
    missing = sorted(set(required) - set(params))
    if missing:
        raise SystemExit(f"sql/orders/purchase.sql uses {missing}: give them values in bench/pgbench.py")
    if quoted:
        return {name: psycopg2.extensions.adapt(value).getquoted().decode() for name, value in params.items()}
    return {name: str(value) for name, value in params.items() if value is not None}


def run_script(
    label, pgbench, url, script: Path, clients, duration, variables: dict, mode="simple", startup_options=True
) -> dict:
    """pgbench; `startup_options=False` for a server behind PgBouncer, which refuses them
    (the server's default, synchronous_commit = on, then applies)."""
    command = [pgbench, "-n", "-M", mode, "-c", str(clients), "-j", str(min(clients, os.cpu_count()))]
    command += ["-T", str(duration), "-f", str(script)]
    for name, value in variables.items():
        command += ["-D", f"{name}={value}"]
    print(f"[{label}] {' '.join(command)} {redact(url)}", flush=True)
    command.append(url)
    env = {**os.environ, "PGOPTIONS": "-c synchronous_commit=on"}  # durable commits
    if not startup_options:
        env.pop("PGOPTIONS")
    done = run_keeping_output(command, f"pgbench-{label}", env)
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
