"""The purchase path with and without the pooler: `make bench-pooler` (BENCH_ARGS as for
`make bench`, e.g. "--duration 10 --connections 64").

On one fresh `ticketing_bench` database (as `make bench`), PgBouncer (transaction pooling,
ticketing/pooler.py, the configuration `make cluster` runs) in front of it:
1. pgbench, the app's purchase statement (sql/orders/purchase.sql) on one hot event,
   simple protocol (what a transaction pooler allows), at --pgbench-clients clients:
   straight to PostgreSQL, then through PgBouncer;
2. the API under gunicorn (production settings), wrk on POST /api/v1/orders: DB_POOLER=none
   straight to PostgreSQL (prepared purchase, startup options), then DB_POOLER=transaction
   through PgBouncer (plain statements, SET LOCAL in the same round trip).
The figures: bench/out/pooler-<timestamp>.json and a table on stdout; docs/scaling.md
quotes them. Ratios from one run, never absolute figures across runs (PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from datetime import datetime

from bench import OUT_DIR, database, pgbench, report, seed, server, wrk
from bench.run import measure
from ticketing import pooler, sql

LATENCIES = ("p50_ms", "p99_ms")


def parse_args(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.pooler", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run (10)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of wrk warm-up (3)")
    parser.add_argument("--users", type=int, default=1000, help="users (and tokens) to rotate (1000)")
    parser.add_argument("--pgbench-clients", type=int, default=8, help="pgbench clients (8)")
    parser.add_argument("--pool-size", type=int, default=8, help="PgBouncer server connections (8)")
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="also pgbench the running `make cluster`: its leader (synchronous standby) and its PgBouncer",
    )
    return parser.parse_args(argv)


def pgbench_purchase(conn, pgbench_path, url, admin_id, user_id, clients, duration, label) -> dict:
    text = sql.path_of("orders/purchase").read_text()
    script = OUT_DIR / "pgbench-pooler-purchase.sql"
    params = {
        "user_id": str(user_id),
        "quantity": 1,
        "hold_seconds": 900,
        "token_version": 0,
        "idempotency_key": None,
        "request_hash": None,
    }
    nulls = {name: "NULL" for name, value in params.items() if value is None}
    script.write_text(sql.to_pgbench(text, inline=nulls))
    event_id = str(seed.create_hot_event(conn, admin_id, f"Bench hot event ({label})"))
    variables = pgbench.variables_for({**params, "event_id": event_id})
    run = pgbench.run_script(
        label,
        pgbench_path,
        url,
        script,
        clients,
        duration,
        variables,
        "simple",
        startup_options="pgbouncer" not in label,
    )
    run["orders"] = database.count_orders(conn, event_id)
    return run


def cluster_runs(opts, pgbench_path) -> dict:
    """The purchase on the running `make cluster`: straight to the leader, whose commits
    wait for the synchronous standby, and through PgBouncer and HAProxy to it."""
    from ticketing import cluster

    layout = cluster.Layout.from_env(os.environ)
    info = json.loads(layout.info_file.read_text())
    leader = cluster.leader_index(layout)
    if leader is None:
        raise SystemExit("the cluster has no leader: is `make cluster` running?")
    leader_dsn = info["nodes"][leader]["dsn"]
    conn = database.connect(leader_dsn)
    try:
        admin_id, user_ids = seed.create_users(conn, 1)
        pooled = info["pgbouncer_dsn"].replace(cluster.APP_LOGIN + "@", "postgres@")
        return {
            label: pgbench_purchase(
                conn, pgbench_path, target, admin_id, user_ids[0], opts.pgbench_clients, opts.duration, label
            )
            for label, target in (("cluster-leader", leader_dsn), ("cluster-pgbouncer", pooled))
        }
    finally:
        conn.close()


def main(argv=None) -> int:
    opts = parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    wrk.ensure_installed()
    url, pgbench_path = database.bench_target()
    print(f"fresh benchmark database {database.redact(url)}", flush=True)
    database.recreate(url)
    conn = database.connect(url)
    front = pooler.start_in_front(url, opts.pool_size, server.free_port())
    try:
        jwt_secret = secrets.token_urlsafe(48)
        env = server.production_env(database_url=url, jwt_secret=jwt_secret)
        admin_id, user_ids = seed.create_users(conn, opts.users)
        tokens = seed.mint_tokens(user_ids, jwt_secret)
        results = {"settings": {**server.effective_settings(env), **vars(opts)}, "pgbench": {}, "api": {}}
        for label, target in (("direct", url), ("pgbouncer", front.url)):
            results["pgbench"][label] = pgbench_purchase(
                conn, pgbench_path, target, admin_id, user_ids[0], opts.pgbench_clients, opts.duration, label
            )
        for label, overrides in (
            ("direct", {"DB_POOLER": "none"}),
            ("pgbouncer", {"DATABASE_URL": front.url, "DB_POOLER": "transaction"}),
        ):
            runs = measure({**env, **overrides}, conn, tokens, admin_id, opts, [(f"api-{label}", None)])
            results["api"][label] = runs[f"api-{label}"]
        if opts.cluster:
            results["pgbench"].update(cluster_runs(opts, pgbench_path))
        results["machine"] = report.machine_info(conn)
    finally:
        front.stop()
        conn.close()
    path = OUT_DIR / f"pooler-{stamp}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print(f"\n{'':<28}{'direct':>12}{'pgbouncer':>12}")
    pg = results["pgbench"]
    print(f"{'pgbench purchase/s':<28}{pg['direct']['tps'] or 0:>12.0f}{pg['pgbouncer']['tps'] or 0:>12.0f}")
    if "cluster-leader" in pg:
        print(
            f"{'  cluster (sync standby)':<28}{pg['cluster-leader']['tps'] or 0:>12.0f}"
            f"{pg['cluster-pgbouncer']['tps'] or 0:>12.0f}"
        )
    api = results["api"]
    for key in ("requests_per_s", "purchases_per_s", "status_other", *LATENCIES):
        values = [api[label].get(key) for label in ("direct", "pgbouncer")]
        if all(isinstance(value, (int, float)) for value in values):
            print(f"{'API ' + key:<28}{values[0]:>12.1f}{values[1]:>12.1f}")
    print(f"written to {path}")
    failures = [f"{label}: {run['error']}" for label, run in pg.items() if run["error"]]
    failures += [
        f"api-{label}: the books do not balance"
        for label, run in api.items()
        if not run["oversell_check"].get("books_balance", False)
    ]
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
