"""The purchase benchmark: `make bench` (flags: BENCH_ARGS="--duration 20 --connections 64").

1. a fresh `ticketing_bench` database (embedded server, or `<DATABASE_URL db>_bench`), migrated;
2. the API with production settings (WEB_CONCURRENCY, DB_POOL_SIZE, GUNICORN_WORKER_CLASS
   and GUNICORN_THREADS pass through from the environment), straight under gunicorn, and
   behind the front door (nginx in front of the gunicorn pools, as `make run` serves it);
3. one hot event and N users inserted by SQL, their tokens minted directly;
4. wrk: 3 s warm-up, then the measured run of POST /api/v1/orders;
5. the oversell check from the database; then rounds of purchases, joins of a waiting room
   and polls of it on one server, straight and through the front door (bench/queue.py),
   to compare joins/s and polls/s with purchases/s;
6. pgbench on the same PostgreSQL at the app's database concurrency: (a) the app's own
   purchase statement (sql/orders/purchase.sql), (b) the textbook transaction
   (bench/textbook.sql), each on its own fresh hot event; (c) the batched statement
   (sql/orders/purchase_batch.sql) at batch sizes 8, 16, 32 against (a) again (bench/batch.py);
7. a summary, also written to bench/out/result-<timestamp>.json.

Each step is a module of its own: bench/database.py, server.py, seed.py, wrk.py,
oversell.py, pgbench.py, report.py.
"""

import argparse
import secrets
import sys
from contextlib import ExitStack
from datetime import datetime
from functools import partial

from bench import OUT_DIR, batch, database, http_floor, oversell, pgbench, queue, report, seed, server, wrk
from bench import webhooks as bench_webhooks
from ticketing import frontdoor

# One server per entry: how it runs (gunicorn alone, or the front door), its environment
# overrides, then its (label, extra wrk headers) runs. First the API straight under
# gunicorn as configured (the expiry sweep runs, nothing is due yet), then the same through
# the front door (nginx) for the proxy's cost, then with a unique Idempotency-Key per
# request; then the sweep's cost: no sweep at all, against holds of 2 s expiring all
# through the run (every worker sweeping every EXPIRY_SWEEP_MS while buyers buy); and an
# endpoint subscribed to order.created (every purchase records an event in its statement,
# and the workers deliver them while buyers buy).
WEBHOOK_RUN = (server.running, bench_webhooks.ENV, [("api-webhook-order-created", None)])
API_RUNS = [
    (server.running, {}, [("api", None)]),
    # Every request admitted, as in the direct run: the cost of the proxy alone (with the
    # default APP_MAX_CONNS, wrk's 64 connections would get 503s for the excess, by design).
    (server.running_front_door, {"APP_MAX_CONNS": "1024"}, [("front-door", None)]),
    # The default app pool batches purchases (threaded workers, docs/performance.md#purchase-batching);
    # the same front door with the previous model, sync workers selling one at a time.
    (
        server.running_front_door,
        {"APP_MAX_CONNS": "1024", **batch.SYNC},
        [("front-door-sync", None)],
    ),
    (server.running, {}, [("api-idempotency-keys", {"Idempotency-Key": wrk.UNIQUE})]),
    (server.running, {"EXPIRY_SWEEP_MS": "0"}, [("api-no-sweep", None)]),
    (server.running, {"ORDER_HOLD_SECONDS": "2"}, [("api-holds-expiring", None)]),
    WEBHOOK_RUN,
]
QUICK_API_RUNS = [*API_RUNS[:3], WEBHOOK_RUN]


def parse_args(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds per measured run (20)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of wrk warm-up (3)")
    parser.add_argument("--users", type=int, default=1000, help="users (and tokens) to rotate (1000)")
    parser.add_argument(
        "--joiners", type=int, default=20000, help="fresh users per waiting-room join run (20000)"
    )
    parser.add_argument(
        "--queue-rounds", type=int, default=3, help="rounds of purchase / join / poll runs per server (3)"
    )
    parser.add_argument(
        "--queue-duration", type=int, default=10, help="seconds per waiting-room round's run (10)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="only the API direct, through the front door and with a webhook endpoint, and pgbench",
    )
    return parser.parse_args(argv)


def measure(running, env, conn, tokens, admin_id, opts, runs) -> dict:
    """Start the API with `running(env)`, then for each (label, extra_headers) warm up and
    measure POST /api/v1/orders on a fresh hot event, with the oversell check of that event."""
    results = {}
    with running(env) as (base_url, log_path):
        for label, headers in runs:
            event = seed.create_hot_event(conn, admin_id, f"Bench hot event ({label})")
            drive = partial(
                wrk.run,
                base_url=base_url,
                tokens=tokens,
                event_id=event,
                connections=opts.connections,
                threads=opts.threads,
                extra_headers=headers,
            )
            with ExitStack() as stack:
                endpoint = None
                if "webhook" in label:
                    endpoint = stack.enter_context(bench_webhooks.endpoint_subscribed(conn))
                drive(f"{label}-warmup", duration=opts.warmup)
                before = database.wait_drained(conn, event)
                log_offset = log_path.stat().st_size
                measured = drive(label, duration=opts.duration)
                new_orders = database.wait_drained(conn, event) - before
                webhook_figures = endpoint and bench_webhooks.delivery_figures(conn, endpoint)
            statuses = server.logged_statuses(log_path, log_offset, method="POST", path=wrk.ORDERS_PATH)
            api = report.api_figures(measured, statuses, new_orders=new_orders, duration=opts.duration)
            api["oversell_check"] = oversell.check(
                conn,
                event_id=event,
                wrk_201=api["status_201"],
                server_201=statuses.get("201", 0),
                new_orders=new_orders,
                connections=opts.connections,
            )
            if webhook_figures:
                api["webhooks"] = webhook_figures
                print(f"{label}: deliveries {webhook_figures}", flush=True)
            results[label] = api
    return results


def main(argv=None) -> int:
    opts = parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    wrk.ensure_installed()
    if frontdoor.ensure_nginx() is None:
        raise SystemExit("the front door's run needs nginx (apt-get install nginx)")

    url, pgbench_path = database.bench_target()
    print(f"fresh benchmark database {database.redact(url)}", flush=True)
    database.recreate(url)
    conn = database.connect(url)

    jwt_secret = secrets.token_urlsafe(48)
    env = server.production_env(database_url=url, jwt_secret=jwt_secret)
    settings = server.effective_settings(env)
    settings.update(
        duration=opts.duration, connections=opts.connections, wrk_threads=opts.threads, users=opts.users
    )
    print(f"settings: {settings}", flush=True)

    admin_id, user_ids = seed.create_users(conn, opts.users)
    tokens = seed.mint_tokens(user_ids, jwt_secret)

    api_runs = {}
    for running, overrides, runs in QUICK_API_RUNS if opts.quick else API_RUNS:
        api_runs.update(measure(running, {**env, **overrides}, conn, tokens, admin_id, opts, runs))

    queue_run = {
        "servers": queue.measure(
            env, conn, tokens=tokens, admin_id=admin_id, jwt_secret=jwt_secret, opts=opts
        )
    }
    # What an empty request costs on the same gunicorn settings: the floor under any endpoint.
    queue_run["http_floor"] = http_floor.measure(rounds=opts.queue_rounds, duration=opts.queue_duration)
    queue_run["pgbench"] = queue.pgbench_runs(
        conn,
        pgbench_path=pgbench_path,
        url=url,
        admin_id=admin_id,
        user_id=user_ids[0],
        clients=settings["db_concurrency"],
        duration=opts.duration,
    )

    ceilings = pgbench.ceilings(
        conn,
        pgbench=pgbench_path,
        url=url,
        admin_id=admin_id,
        user_id=user_ids[0],
        hold_seconds=settings["hold_seconds"],
        clients=settings["db_concurrency"],
        duration=opts.duration,
    )

    # (c): the batched statement (sql/orders/purchase_batch.sql) at batch sizes 8, 16, 32,
    # against (a) again, in the same minutes (bench/batch.py; --sweep there for 8/64/256)
    batched = batch.ceilings(
        conn,
        pgbench=pgbench_path,
        url=url,
        admin_id=admin_id,
        user_ids=user_ids,
        hold_seconds=settings["hold_seconds"],
        clients=settings["db_concurrency"],
        duration=opts.duration,
    )

    result = report.assemble(
        stamp=stamp,
        machine=report.machine_info(conn),
        settings=settings,
        api_runs=api_runs,
        ceilings=ceilings,
        queue_run=queue_run,
    )
    result["pgbench_batched"] = batched
    conn.close()
    report.write(result)
    report.print_summary(result)
    print("\n".join(batch.lines(batched, settings["db_concurrency"])), flush=True)
    failures = report.failures(result)
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
