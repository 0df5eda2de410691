"""Step 5b: the waiting room against purchases, on the same server in the same minutes.
For each server (gunicorn alone, as the purchase runs; then the front door, nginx in
front; then the front door with sync workers, the one-purchase path: SERVERS),
`--queue-rounds` rounds of three wrk runs, one after the other so the machine's
swings hit all three alike: purchases of one hot event (POST /api/v1/orders, the users of
the purchase runs), joins of one event with a waiting room (POST
/api/v1/events/{id}/queue, tokens of fresh users: each one's first join creates an entry,
201, a later one answers the live entry, 200) and polls of it (GET, tokens of users who
joined). Joins and polls never lock or change the event's row, so they should far outrun
purchases of one hot event: the issue asks for at least 3x. The ratios are of medians
over the rounds. Then pgbench runs the join statement against the purchase statement at
the app's database concurrency and at four times it (pgbench_runs)."""

import os
import statistics
from functools import partial

from bench import OUT_DIR, database, pgbench, seed, server, wrk
from bench.batch import SYNC
from bench.database import scalar
from ticketing import sql
from ticketing.security import issue_token

JOIN_STATUSES = ("200", "201")
MIN_RATIO = 3.0
KINDS = ("purchase", "join", "poll")
# The servers compared: gunicorn alone, and the front door with every request admitted
# (as bench/run.py's front-door run; wrk's 64 connections would otherwise get 503s), both
# with the app pool's defaults (threaded workers, purchases batched).
# Then the front door with the app pool's previous model (bench.batch.SYNC: sync workers,
# every purchase on the single statement), the purchase path this comparison was first
# asked against before purchases were batched.
SERVERS = (
    ("gunicorn", server.running, {}),
    ("front-door", server.running_front_door, {"APP_MAX_CONNS": "1024"}),
    ("front-door-sync", server.running_front_door, {"APP_MAX_CONNS": "1024", **SYNC}),
)


def create_queued_event(conn, admin_id: str) -> str:
    return scalar(
        conn,
        "INSERT INTO events (name, location, organization, rating, date, capacity, remaining,"
        "                    price, max_per_order, created_by,"
        "                    queue_admit_per_minute, queue_pass_seconds, queue_opened_at)"
        " VALUES ('Bench queued event', 'Bench Arena', 'Bench', 'G', now() + interval '1 year',"
        "         1000000, 1000000, 100.00, 10, %s, 60, 300, now()) RETURNING id",
        (admin_id,),
    )


def create_joiners(conn, count: int, jwt_secret: str) -> dict[str, str]:
    """`count` fresh users (no bcrypt): their tokens by user id."""
    cur = conn.cursor()
    cur.execute(
        "INSERT INTO users (name, email, password_hash)"
        " SELECT 'Bench Joiner', 'bench-joiner-' || gen_random_uuid() || '@example.com', 'not-a-bcrypt-hash'"
        "   FROM generate_series(1, %s) RETURNING id",
        (count,),
    )
    return {str(row[0]): issue_token(row[0], "user", jwt_secret, ttl=3600) for row in cur.fetchall()}


def _joined(conn, event: str, tokens: dict[str, str]) -> list[str]:
    """The tokens of the users with an entry in the event's queue (the pollers)."""
    cur = conn.cursor()
    cur.execute("SELECT DISTINCT user_id::text FROM queue_entries WHERE event_id = %s", (event,))
    return [tokens[user_id] for (user_id,) in cur.fetchall() if user_id in tokens]


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:  # gone
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _app_pids(marker: str) -> list[int]:
    """The server's processes (gunicorn master and workers, nginx): those started with
    `marker` (this run's JWT_SECRET=...) in their environment."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/environ", "rb") as environ:
                    if marker.encode() in environ.read().split(b"\0"):
                        found.append(int(name))
            except OSError:
                pass
    return found


def _db_pids(conn) -> list[int]:
    """The app's PostgreSQL backends (application_name 'ticketing')."""
    cur = conn.cursor()
    cur.execute("SELECT pid FROM pg_stat_activity WHERE application_name = 'ticketing'")
    return [pid for (pid,) in cur.fetchall()]


class CpuMeter:
    """CPU seconds spent by the app's processes and by its database backends during a run,
    read from /proc (the embedded or local PostgreSQL; a remote one reads as 0)."""

    def __init__(self, conn, marker: str):
        self.conn, self.marker = conn, marker

    def snapshot(self) -> dict:
        return {
            "app": {pid: _cpu_seconds(pid) for pid in _app_pids(self.marker)},
            "db": {pid: _cpu_seconds(pid) for pid in _db_pids(self.conn)},
        }

    @staticmethod
    def spent(before: dict, after: dict) -> dict:
        return {
            tier: round(sum(seconds - before[tier].get(pid, 0.0) for pid, seconds in after[tier].items()), 3)
            for tier in ("app", "db")
        }


def _median(values):
    return statistics.median(values) if values else None


def _ratio(a, b):
    return round(a / b, 2) if a and b else None


def measure_server(label, running, env, conn, *, tokens, admin_id, jwt_secret, opts) -> dict:
    """The rounds of purchase / join / poll runs on one server: figures per run, medians
    and the ratios of the medians."""
    runs = {kind: [] for kind in KINDS}
    joiners: dict[str, str] = {}
    meter = CpuMeter(conn, f"JWT_SECRET={env['JWT_SECRET']}")
    with running(env) as (base_url, _):
        event = create_queued_event(conn, admin_id)
        queue_path = f"/api/v1/events/{event}/queue"
        drive = partial(wrk.run, base_url=base_url, connections=opts.connections, threads=opts.threads)

        def run(kind: str, name: str, duration: int) -> dict:
            before = meter.snapshot()
            figures = run_kind(kind, name, duration)
            figures["cpu_s"] = CpuMeter.spent(before, meter.snapshot())
            done = figures["per_s"] * duration
            figures["cpu_ms_per_request"] = {
                tier: round(seconds * 1000 / done, 3) if done else None
                for tier, seconds in figures["cpu_s"].items()
            }
            return figures

        def run_kind(kind: str, name: str, duration: int) -> dict:
            if kind == "purchase":
                hot = seed.create_hot_event(conn, admin_id, f"Bench hot event ({name})")
                before = database.wait_drained(conn, hot)
                figures = drive(name, duration=duration, tokens=tokens, event_id=hot)
                figures["per_s"] = (database.wait_drained(conn, hot) - before) / duration
                return figures
            if kind == "join":
                fresh = create_joiners(conn, opts.joiners, jwt_secret)
                joiners.update(fresh)
                figures = drive(
                    name, duration=duration, tokens=list(fresh.values()), event_id=event, path=queue_path
                )
                ok = JOIN_STATUSES
            else:
                pollers = _joined(conn, event, joiners)
                figures = drive(
                    name, duration=duration, tokens=pollers, event_id=event, path=queue_path, method="GET"
                )
                ok = ("200",)
            figures["per_s"] = sum(int(figures["statuses"].get(code, 0)) for code in ok) / duration
            figures["status_other"] = {k: v for k, v in figures["statuses"].items() if k not in ok}
            return figures

        for kind in KINDS:
            run(kind, f"queue-{label}-{kind}-warmup", opts.warmup)
        for round_no in range(opts.queue_rounds):
            for kind in KINDS:
                figures = run(kind, f"queue-{label}-{kind}-{round_no + 1}", opts.queue_duration)
                runs[kind].append(figures)
                print(
                    f"[{label}] round {round_no + 1} {kind}: {figures['per_s']:.0f}/s,"
                    f" CPU ms each {figures['cpu_ms_per_request']}",
                    flush=True,
                )
        untouched = scalar(conn, "SELECT remaining = capacity FROM events WHERE id = %s", (event,))
    medians = {kind: _median([r["per_s"] for r in runs[kind]]) for kind in KINDS}
    cpu = {
        kind: {
            tier: _median([r["cpu_ms_per_request"][tier] or 0 for r in runs[kind]]) for tier in ("app", "db")
        }
        for kind in KINDS
    }
    return {
        "runs": runs,
        "per_s": medians,
        "cpu_ms_per_request": cpu,
        "joins_over_purchases": _ratio(medians["join"], medians["purchase"]),
        "polls_over_purchases": _ratio(medians["poll"], medians["purchase"]),
        "event_row_untouched": untouched,
    }


def measure(env, conn, *, tokens, admin_id: str, jwt_secret: str, opts, servers=SERVERS) -> dict:
    return {
        label: measure_server(
            label,
            running,
            {**env, **overrides},
            conn,
            tokens=tokens,
            admin_id=admin_id,
            jwt_secret=jwt_secret,
            opts=opts,
        )
        for label, running, overrides in servers
    }


def pgbench_runs(
    conn, *, pgbench_path: str, url: str, admin_id: str, user_id: str, clients: int, duration: int
) -> dict:
    """The join statement (sql/queue/join.sql, random fresh users) against the purchase
    statement (sql/orders/purchase.sql, one hot event), alternating, at `clients` and at
    4 x `clients` database sessions: the hot row serialises purchases, joins run side by side."""
    conn.cursor().execute(
        "INSERT INTO users (id, name, email, password_hash)"
        " SELECT md5('bench-pgjoin-' || i)::uuid, 'Bench pgbench joiner',"
        "        'bench-pgjoin-' || i || '@example.com', 'not-a-bcrypt-hash'"
        "   FROM generate_series(1, 100000) AS i ON CONFLICT DO NOTHING"
    )
    join_script = OUT_DIR / "pgbench-queue-join.sql"
    join_script.write_text(
        "\\set n random(1, 100000)\n"
        + sql.to_pgbench(
            sql.path_of("queue/join").read_text(),
            inline={
                "user_ids": "ARRAY[md5('bench-pgjoin-' || :n)]",
                "token_versions": "ARRAY[:token_version]",
            },
        )
    )
    purchase_script = OUT_DIR / "pgbench-purchase-vs-joins.sql"
    purchase_script.write_text(
        sql.to_pgbench(
            sql.path_of("orders/purchase").read_text(),
            inline={"idempotency_key": "NULL", "request_hash": "NULL", "queue_pass": "NULL"},
        )
    )
    runs = {}
    for sessions in (clients, 4 * clients):
        for label in ("purchase", "join"):
            if label == "join":
                event = create_queued_event(conn, admin_id)
                variables = {"event_id": str(event), "token_version": "0"}
                script = join_script
            else:
                event = seed.create_hot_event(
                    conn, admin_id, f"Bench hot event (pgbench vs joins, {sessions})"
                )
                variables = {"event_id": str(event), "token_version": "0", "user_id": str(user_id)}
                variables.update(quantity="1", hold_seconds="900")
                script = purchase_script
            runs[f"{label}-{sessions}"] = pgbench.run_script(
                f"{label}-{sessions}", pgbench_path, url, script, sessions, duration, variables, "prepared"
            )
    return runs


def main(argv=None) -> int:
    """This step alone (`python -m bench.queue`, the same flags as bench.run): a fresh
    benchmark database, the rounds on each server, the medians and ratios."""
    import json
    import secrets
    from datetime import datetime

    from bench import http_floor, report
    from bench.run import parse_args  # bench.run and bench.http_floor import this module

    opts = parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    wrk.ensure_installed()
    url, _ = database.bench_target()
    database.recreate(url)
    conn = database.connect(url)
    jwt_secret = secrets.token_urlsafe(48)
    env = server.production_env(database_url=url, jwt_secret=jwt_secret)
    admin_id, user_ids = seed.create_users(conn, opts.users)
    tokens = seed.mint_tokens(user_ids, jwt_secret)
    servers = measure(env, conn, tokens=tokens, admin_id=admin_id, jwt_secret=jwt_secret, opts=opts)
    conn.close()
    floor = http_floor.measure(rounds=opts.queue_rounds, duration=opts.queue_duration)
    out = OUT_DIR / f"queue-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"servers": servers, "http_floor": floor}, indent=1, default=str))
    for label, q in servers.items():
        rounds = {kind: [round(r["per_s"]) for r in q["runs"][kind]] for kind in KINDS}
        print(
            f"waiting room {label}: per round {rounds}; medians {q['per_s']}:"
            f" joins {q['joins_over_purchases']} x, polls {q['polls_over_purchases']} x purchases/s;"
            f" event row untouched: {q['event_row_untouched']}; median CPU ms per request"
            f" {q['cpu_ms_per_request']}"
        )
    print(*report.floor_lines({"queue": {"servers": servers, "http_floor": floor}}), sep="\n")
    print(f"result {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
