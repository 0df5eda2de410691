"""Step 6: pgbench on the same PostgreSQL at the app's database concurrency: (a) the app's own
purchase statement (sql/orders/purchase.sql) as a single-type event's default purchase
(no ticket_type_id), (a') the same statement naming one of three ticket types of an event
(docs/ticket-types.md: within 10% of (a)), (b) the textbook transaction
(bench/textbook.sql), each on its own fresh hot event."""

import os
import re
from pathlib import Path

import psycopg2

from bench import BENCH_DIR, OUT_DIR
from bench.database import count_orders, redact
from bench.output import run_keeping_output
from bench.seed import create_hot_event, second_type
from ticketing import sql


def scripts(hold_seconds: int, user_id: str) -> tuple[dict, list, dict]:
    """The purchase's parameters as the app passes them, the names it requires, and the
    pgbench scripts: {"purchase": no ticket_type_id, "purchase-typed": one given}."""
    purchase_sql = sql.path_of("orders/purchase").read_text()
    required = re.findall(r"(?<!:):'([A-Za-z_]\w*)'", purchase_sql)
    params = {
        "user_id": str(user_id),
        "quantity": 1,
        "hold_seconds": hold_seconds,
        "token_version": 0,  # the bench users' password never changes
        "idempotency_key": None,
        "request_hash": None,
        "queue_pass": None,  # the bench's hot event has no waiting room
        "ticket_type_id": None,  # (a): the event's first (only) type; (a') names one
    }
    nulls = {name: "NULL" for name, value in params.items() if value is None}
    typed_nulls = {name: value for name, value in nulls.items() if name != "ticket_type_id"}
    files = {
        "purchase": OUT_DIR / "pgbench-purchase.sql",
        "purchase-typed": OUT_DIR / "pgbench-purchase-typed.sql",
    }
    files["purchase"].write_text(sql.to_pgbench(purchase_sql, inline=nulls))
    files["purchase-typed"].write_text(sql.to_pgbench(purchase_sql, inline=typed_nulls))
    return params, required, files


def one_run(conn, label, script, mode, types, *, params, required, pgbench, url, admin_id, clients, duration):
    """pgbench of `script` on a fresh hot event with `types` ticket types (more than one:
    the purchase names the second)."""
    event_id = str(create_hot_event(conn, admin_id, f"Bench hot event (pgbench {label})", types))
    quoted = mode == "simple"
    run_params = {**params, "event_id": event_id}
    if types > 1:
        run_params["ticket_type_id"] = str(second_type(conn, event_id))
    variables = variables_for(run_params, required if quoted else (), quoted)
    run = run_script(label, pgbench, url, script, clients, duration, variables, mode)
    run["mode"] = mode
    run["orders"] = count_orders(conn, event_id)
    if run["error"] is None and run["orders"] != run["transactions"]:  # a script that sold nothing
        run["error"] = f"{run['transactions']} transactions but {run['orders']} orders"
    return run


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
    """{"purchase": (a), "purchase-typed": (a'), "textbook": (b)}, each run with the
    parameters the app passes."""
    params, required, files = scripts(hold_seconds, user_id)
    common = dict(
        params=params,
        required=required,
        pgbench=pgbench,
        url=url,
        admin_id=admin_id,
        clients=clients,
        duration=duration,
    )
    # (a) runs the statement the way the app does, as a prepared statement (planned once
    # per connection); (b) the way the Go service's driver did, planned on every call.
    return {
        label: one_run(conn, label, script, mode, types, **common)
        for label, script, mode, types in (
            ("purchase", files["purchase"], "prepared", 1),
            ("purchase-typed", files["purchase-typed"], "prepared", 3),
            ("textbook", BENCH_DIR / "textbook.sql", "simple", 1),
        )
    }


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
