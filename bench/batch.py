"""(c) pgbench of the batched purchase (sql/orders/purchase_batch.sql) against (a), the
one-purchase statement (sql/orders/purchase.sql), alternated in the same minutes, each on
its own fresh hot event: at the app's database concurrency for batch sizes 8, 16 and 32,
and (--sweep) at 8, 64 and 256 clients for the single statement and a batch of 16;
(--writers) the same two at 1, 2 and 4 clients: what it costs when the app processes of
one machine queue on the row instead of taking turns (PURCHASE_LOCK_FILE).

Standalone: `.venv/bin/python -m bench.batch [--duration 10] [--sweep] [--writers]` (a
fresh `ticketing_bench` database); `make bench` runs the first part after (a) and (b).
"""

from __future__ import annotations

import argparse
import re
import sys

from bench import OUT_DIR
from bench.database import count_orders
from bench.pgbench import run_script, scripts, variables_for
from bench.seed import create_hot_event
from ticketing import sql

BATCHED = {"GUNICORN_WORKER_CLASS": "gthread", "PURCHASE_BATCHING": "on"}
# The API settings measured best for a rush on 2 cores (docs/performance.md#purchase-batching)
RUSH = {**BATCHED, "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "16", "DB_POOL_SIZE": "4"}
# The app pool's model before threaded workers became its default: one purchase per
# worker at a time, every purchase on the single statement.
SYNC = {"GUNICORN_WORKER_CLASS": "sync", "GUNICORN_THREADS": "1", "WEB_CONCURRENCY": "4", "DB_POOL_SIZE": "2"}
SIZES = (8, 16, 32)
SWEEP_CLIENTS = (8, 64, 256)
WRITER_CLIENTS = (1, 2, 4)
SWEEP_SIZE = 16


def batch_script(size: int) -> tuple:
    """The pgbench script of one batch of `size` purchases and the names it binds."""
    text = sql.path_of("orders/purchase_batch").read_text()
    required = re.findall(r"(?<!:):'([A-Za-z_]\w*)'", text)
    path = OUT_DIR / f"pgbench-purchase-batch-{size}.sql"
    path.write_text(sql.to_pgbench(text))
    return path, required


def batch_params(user_ids: list, size: int, hold_seconds: int) -> dict:
    """`size` distinct buyers (one request per user per batch), one ticket each, no key,
    no pass, the event's first type: what the app's batcher sends in a rush."""
    if len(user_ids) < size:
        raise SystemExit(f"a batch of {size} needs {size} users")
    users = [str(u) for u in user_ids[:size]]
    array = "{" + ",".join(users) + "}"
    nulls = "{" + ",".join(["NULL"] * size) + "}"
    return {
        "user_ids": array,
        "quantities": "{" + ",".join(["1"] * size) + "}",
        "ticket_type_ids": nulls,
        "queue_passes": nulls,
        "idempotency_keys": nulls,
        "request_hashes": nulls,
        "token_versions": "{" + ",".join(["0"] * size) + "}",
        "hold_seconds": str(hold_seconds),
    }


def run_single(conn, *, pgbench, url, admin_id, user_id, hold_seconds, clients, duration, label) -> dict:
    params, required, files = scripts(hold_seconds, user_id)
    event_id = str(create_hot_event(conn, admin_id, f"Bench hot event (pgbench {label})"))
    variables = variables_for({**params, "event_id": event_id}, (), quoted=False)
    run = run_script(label, pgbench, url, files["purchase"], clients, duration, variables, "prepared")
    run["purchases_per_s"] = run["tps"]
    run["orders"] = count_orders(conn, event_id)
    if run["error"] is None and run["orders"] != run["transactions"]:
        run["error"] = f"{run['transactions']} transactions but {run['orders']} orders"
    return run


def run_batch(
    conn, *, pgbench, url, admin_id, user_ids, hold_seconds, clients, duration, size, label
) -> dict:
    script, required = batch_script(size)
    event_id = str(create_hot_event(conn, admin_id, f"Bench hot event (pgbench {label})"))
    variables = {**batch_params(user_ids, size, hold_seconds), "event_id": event_id}
    missing = sorted(set(required) - set(variables))
    if missing:
        raise SystemExit(f"sql/orders/purchase_batch.sql uses {missing}: give them values in bench/batch.py")
    run = run_script(label, pgbench, url, script, clients, duration, variables, "prepared")
    run["orders"] = count_orders(conn, event_id)
    run["batch_size"] = size
    run["purchases_per_s"] = round(run["orders"] / duration, 1) if run["tps"] else None
    if run["error"] is None and run["orders"] != run["transactions"] * size:
        run["error"] = f"{run['transactions']} batches of {size} but {run['orders']} orders"
    return run


def ceilings(conn, *, pgbench, url, admin_id, user_ids, hold_seconds, clients, duration, sweep=()) -> dict:
    """{"single": (a) again, "batch-8": ..., ...}: alternated, single first; then
    "single-c<N>" and "batch-16-c<N>" for each N in `sweep`."""
    common = dict(pgbench=pgbench, url=url, admin_id=admin_id, hold_seconds=hold_seconds, duration=duration)
    runs = {"single": run_single(conn, user_id=user_ids[0], clients=clients, label="single", **common)}
    for size in SIZES:
        label = f"batch-{size}"
        runs[label] = run_batch(conn, user_ids=user_ids, clients=clients, size=size, label=label, **common)
    for n in sweep:
        label = f"single-c{n}"
        runs[label] = run_single(conn, user_id=user_ids[0], clients=n, label=label, **common)
        label = f"batch-{SWEEP_SIZE}-c{n}"
        runs[label] = run_batch(conn, user_ids=user_ids, clients=n, size=SWEEP_SIZE, label=label, **common)
    single = runs["single"]["purchases_per_s"]
    for run in runs.values():
        run["ratio_to_a"] = (
            round(run["purchases_per_s"] / single, 2) if single and run["purchases_per_s"] else None
        )
    return runs


def lines(runs: dict, clients: int) -> list[str]:
    out = []
    for label, run in runs.items():
        where = label.split("-c")[1] if "-c" in label else clients
        out.append(
            f"pgbench (c)  {label:<14} {where:>3} clients: {run['purchases_per_s']} purchases/s"
            f" ({run['tps']} statements/s), {run['ratio_to_a']} x (a)"
            + (f"  ERROR {run['error']}" if run["error"] else "")
        )
    return out


def main(argv=None) -> int:
    from bench import database, seed

    parser = argparse.ArgumentParser(prog="python -m bench.batch", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8, help="the app's database concurrency (8)")
    parser.add_argument("--sweep", action="store_true", help="also 8, 64 and 256 clients")
    parser.add_argument("--writers", action="store_true", help="also 1, 2 and 4 clients")
    opts = parser.parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    url, pgbench_path = database.bench_target()
    database.recreate(url)
    conn = database.connect(url)
    admin_id, user_ids = seed.create_users(conn, max(SIZES))
    runs = ceilings(
        conn,
        pgbench=pgbench_path,
        url=url,
        admin_id=admin_id,
        user_ids=user_ids,
        hold_seconds=900,
        clients=opts.clients,
        duration=opts.duration,
        sweep=(SWEEP_CLIENTS if opts.sweep else ()) + (WRITER_CLIENTS if opts.writers else ()),
    )
    conn.close()
    print("\n".join(lines(runs, opts.clients)), flush=True)
    return 1 if any(run["error"] for run in runs.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
