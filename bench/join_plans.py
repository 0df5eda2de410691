"""The database's CPU per waiting-room join, by batch size and plan choice: sql/queue/join.sql
for 1, 4, 16 and 32 callers at a time, run as the app runs it (a prepared statement on one
connection, every statement its own commit), once with PostgreSQL's own choice between
custom and generic plans and once with the generic plan forced (ticketing/sql.py,
GENERIC_PLAN, which the app uses). The figure is the backend's CPU time (from /proc)
per join: independent of how many clients, but not of how busy the machine is, so the
configurations alternate, `--rounds` times.

Standalone: `.venv/bin/python -m bench.join_plans [--joins 1600] [--rounds 2]` (a fresh
`ticketing_bench` database)."""

from __future__ import annotations

import argparse
import os
import statistics

from bench import database, seed
from bench.database import scalar
from ticketing import sql

SIZES = (1, 4, 16, 32)
CHOICES = ("auto", "force_generic_plan")


def backend_cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fresh_room(conn, admin_id: str, joins: int) -> tuple[str, list[str]]:
    """A queued event whose sweep has ranked everyone (a join counts nobody unranked ahead),
    and `joins` users who have never joined."""
    event = scalar(
        conn,
        "INSERT INTO events (name, location, organization, rating, date, capacity, remaining,"
        "                    price, max_per_order, created_by,"
        "                    queue_admit_per_minute, queue_pass_seconds, queue_opened_at)"
        " VALUES ('Bench join plans', 'Bench Arena', 'Bench', 'G', now() + interval '1 year',"
        "         1000000, 1000000, 1, 10, %s, 60, 300, now()) RETURNING id",
        (admin_id,),
    )
    cur = conn.cursor()
    cur.execute("INSERT INTO queue_admission (event_id, ranked_through) VALUES (%s, 'infinity')", (event,))
    cur.execute(
        "INSERT INTO users (name, email, password_hash)"
        " SELECT 'Bench joiner', 'bench-plans-' || gen_random_uuid() || '@example.com', 'x'"
        "   FROM generate_series(1, %s) RETURNING id",
        (joins,),
    )
    return str(event), [str(row[0]) for row in cur.fetchall()]


def measure(url: str, conn, admin_id: str, size: int, choice: str, joins: int) -> float:
    """Backend CPU milliseconds per join for batches of `size` under `choice`."""
    event, users = fresh_room(conn, admin_id, joins)
    join = sql.to_prepared("queue/join", sql.path_of("queue/join").read_text())
    session = database.connect(url)  # autocommit, as the app's connections
    cur = session.cursor()
    cur.execute(join.prepare_sql)
    if choice != "auto":
        cur.execute(f"SET plan_cache_mode = {choice}")
    pid = scalar(session, "SELECT pg_backend_pid()")
    before = backend_cpu_seconds(pid)
    for start in range(0, joins, size):
        part = users[start : start + size]
        cur.execute(
            join.execute_sql, {"event_id": event, "user_ids": part, "token_versions": [0] * len(part)}
        )
        assert len(cur.fetchall()) == len(part)
    spent = backend_cpu_seconds(pid) - before
    session.close()
    return spent * 1000 / joins


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.join_plans", description=__doc__.split("\n")[0])
    parser.add_argument("--joins", type=int, default=1600, help="joins per configuration (1600)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of every configuration (2)")
    opts = parser.parse_args(argv)
    url, _ = database.bench_target()
    database.recreate(url)
    conn = database.connect(url)
    admin_id, _ = seed.create_users(conn, 1)
    figures: dict[tuple[int, str], list[float]] = {}
    for _ in range(opts.rounds):
        for size in SIZES:
            for choice in CHOICES:
                ms = measure(url, conn, admin_id, size, choice, opts.joins)
                figures.setdefault((size, choice), []).append(ms)
                print(f"batch {size:2d}, plan {choice:18s}: {ms:.3f} ms of database CPU per join", flush=True)
    print("medians (ms of database CPU per join):")
    for size in SIZES:
        auto, generic = (statistics.median(figures[(size, c)]) for c in CHOICES)
        print(f"  batch {size:2d}: auto {auto:.3f}, generic {generic:.3f} ({auto / generic:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
