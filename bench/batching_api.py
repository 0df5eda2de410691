"""Purchase batching through the front door, A/B in one run: the API as `make run` serves
it by default (gthread workers, PURCHASE_BATCHING=on) against the previous model, sync
workers (the single-purchase path), alternated for --rounds rounds, each at 64 connections (purchases/s,
p99) and at 1 connection (a lone buyer's latency), with pgbench (a) (sql/orders/purchase.sql
at the app's database concurrency) in each round for the ratio.

    .venv/bin/python -m bench.batching_api --rounds 3 --duration 10

A fresh `ticketing_bench` database; results in bench/out/batching-api-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
from datetime import datetime
from types import SimpleNamespace

from bench import OUT_DIR, database, seed, server, wrk
from bench.batch import BATCHED, SYNC, run_single
from bench.run import measure
from ticketing import frontdoor


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.batching_api", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--workers", default="2", help="batched: WEB_CONCURRENCY (2)")
    parser.add_argument("--threads", default="16", help="batched: GUNICORN_THREADS (16)")
    parser.add_argument("--pool", default="4", help="batched: DB_POOL_SIZE (4)")
    parser.add_argument("--batch-max", default="32", help="batched: PURCHASE_BATCH_MAX (32)")
    parser.add_argument("--no-latency", action="store_true", help="skip the 1-connection runs")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    opts = parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    wrk.ensure_installed()
    if frontdoor.ensure_nginx() is None:
        raise SystemExit("needs nginx (apt-get install nginx)")
    url, pgbench_path = database.bench_target()
    database.recreate(url)
    conn = database.connect(url)
    jwt_secret = secrets.token_urlsafe(48)
    base_env = server.production_env(database_url=url, jwt_secret=jwt_secret)
    base_env["APP_MAX_CONNS"] = "1024"  # every request admitted, as in make bench's front-door run
    admin_id, user_ids = seed.create_users(conn, opts.users)
    tokens = seed.mint_tokens(user_ids, jwt_secret)
    configs = {
        "sync": SYNC,
        "batched": {
            **BATCHED,
            "WEB_CONCURRENCY": opts.workers,
            "GUNICORN_THREADS": opts.threads,
            "DB_POOL_SIZE": opts.pool,
            "PURCHASE_BATCH_MAX": opts.batch_max,
        },
    }
    settings = {name: server.effective_settings({**base_env, **env}) for name, env in configs.items()}
    print(f"settings: {settings}", flush=True)
    many = SimpleNamespace(
        connections=opts.connections, threads=2, warmup=opts.warmup, duration=opts.duration
    )
    one = SimpleNamespace(connections=1, threads=1, warmup=opts.warmup, duration=opts.duration)
    rounds = []
    for number in range(opts.rounds):
        result = {}
        a = run_single(
            conn,
            pgbench=pgbench_path,
            url=url,
            admin_id=admin_id,
            user_id=user_ids[0],
            hold_seconds=900,
            clients=settings["sync"]["db_concurrency"],
            duration=opts.duration,
            label=f"a-{number}",
        )
        result["a"] = a["purchases_per_s"]
        for name, env in configs.items():
            runs = [(f"{name}-c{opts.connections}", None)]
            got = measure(server.running_front_door, {**base_env, **env}, conn, tokens, admin_id, many, runs)
            run = got[runs[0][0]]
            result[name] = {
                "purchases_per_s": round(run["purchases_per_s"]),
                "p50_ms": run.get("p50_ms"),
                "p99_ms": run.get("p99_ms"),
                "statuses": {
                    "201": run["status_201"],
                    "409": run["status_409"],
                    "other": run["other_statuses"],
                },
                "server_statuses": run["server_statuses"],
                "oversell_pass": run["oversell_check"]["pass"],
                "ratio_to_a": round(run["purchases_per_s"] / a["purchases_per_s"], 2),
            }
            if not opts.no_latency:
                lone = [(f"{name}-c1", None)]
                got = measure(
                    server.running_front_door, {**base_env, **env}, conn, tokens, admin_id, one, lone
                )
                single = got[lone[0][0]]
                result[name]["c1_p50_ms"] = single.get("p50_ms")
                result[name]["c1_p99_ms"] = single.get("p99_ms")
                result[name]["c1_purchases_per_s"] = round(single["purchases_per_s"])
        result["batched_over_sync"] = round(
            result["batched"]["purchases_per_s"] / result["sync"]["purchases_per_s"], 2
        )
        print(f"round {number + 1}: {json.dumps(result)}", flush=True)
        rounds.append(result)
    conn.close()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = OUT_DIR / f"batching-api-{stamp}.json"
    path.write_text(json.dumps({"settings": settings, "rounds": rounds}, indent=2))

    def median(get):
        values = [get(r) for r in rounds if get(r) is not None]
        return statistics.median(values) if values else None

    print("=" * 78)
    print(f"(a) pgbench purchase.sql: median {median(lambda r: r['a'])} purchases/s")
    for name in configs:

        def field(key, name=name):
            return median(lambda r: r[name].get(key))

        print(
            f"{name:<8} {opts.connections} conns: median {field('purchases_per_s')} purchases/s,"
            f" {field('ratio_to_a')} x (a), p99 {field('p99_ms')} ms;"
            f" 1 conn: p50 {field('c1_p50_ms')} ms, p99 {field('c1_p99_ms')} ms"
        )
    print(f"batched / sync (same round): median {median(lambda r: r['batched_over_sync'])}")
    print(f"result {path}")
    bad = [
        r for r in rounds for name in configs if not r[name]["oversell_pass"] or r[name]["statuses"]["other"]
    ]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
