"""Typed against single-type purchases, alternated: `python -m bench.typed [--rounds 5
--duration 10]` (docs/ticket-types.md, docs/performance.md).

On a fresh `ticketing_bench` database, pgbench runs sql/orders/purchase.sql exactly as
`make bench`'s (a) and (a') do, alternately (a, a', a, a', ...) so that a loaded machine
slows both alike: (a) a single-type event's default purchase (no ticket_type_id), (a') a
purchase naming the second of three ticket types. It prints each round and the ratio of
the medians (a')/(a); the issue asks for at least 0.90.
"""

import argparse
import statistics
import sys

from bench import database, pgbench, seed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.typed", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="pairs of runs (5)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (10)")
    parser.add_argument(
        "--clients", type=int, default=4, help="pgbench clients: the app's DB concurrency (4)"
    )
    opts = parser.parse_args(argv)
    url, pgbench_path = database.bench_target()
    database.recreate(url)
    conn = database.connect(url)
    admin_id, user_ids = seed.create_users(conn, 1)
    params, required, files = pgbench.scripts(900, user_ids[0])
    common = dict(
        params=params,
        required=required,
        pgbench=pgbench_path,
        url=url,
        admin_id=admin_id,
        clients=opts.clients,
        duration=opts.duration,
    )
    tps = {"purchase": [], "purchase-typed": []}
    for round_ in range(1, opts.rounds + 1):
        for label, types in (("purchase", 1), ("purchase-typed", 3)):
            run = pgbench.one_run(conn, label, files[label], "prepared", types, **common)
            if run["error"]:
                print(f"FAIL: {label}: {run['error']}", file=sys.stderr)
                return 1
            tps[label].append(run["tps"])
        print(
            f"round {round_}: (a) {tps['purchase'][-1]:.0f} tps, (a') {tps['purchase-typed'][-1]:.0f} tps",
            flush=True,
        )
    a, typed = statistics.median(tps["purchase"]), statistics.median(tps["purchase-typed"])
    print(
        f"median (a) single type, default: {a:.0f} tps; (a') 3 types, named: {typed:.0f} tps;"
        f" (a')/(a) = {typed / a:.2f}"
    )
    conn.close()
    return 0 if typed / a >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
