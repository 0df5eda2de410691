"""Step 5b: joining a waiting room, against the same gunicorn settings as the purchase run.
wrk POSTs /api/v1/events/{id}/queue for one event with a waiting room, tokens rotating
over fresh users (each one's first join creates an entry, 201; later ones answer their
live entry, 200, through the same statement). Joins never lock or change the event's row,
so they should far outrun purchases of one hot event: the issue asks for at least 3x.
Then pgbench runs the join statement against the purchase statement at the app's
database concurrency and at four times it (pgbench_runs)."""

from functools import partial

from bench import OUT_DIR, pgbench, seed, server, wrk
from bench.database import scalar
from ticketing import sql
from ticketing.security import issue_token

JOIN_STATUSES = ("200", "201")
MIN_RATIO = 3.0


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


def create_joiners(conn, count: int, jwt_secret: str) -> list[str]:
    """`count` fresh users (no bcrypt) and their tokens."""
    cur = conn.cursor()
    cur.execute(
        "INSERT INTO users (name, email, password_hash)"
        " SELECT 'Bench Joiner ' || i, 'bench-joiner-' || i || '@example.com', 'not-a-bcrypt-hash'"
        "   FROM generate_series(1, %s) AS i RETURNING id",
        (count,),
    )
    return [issue_token(row[0], "user", jwt_secret, ttl=3600) for row in cur.fetchall()]


def measure(env, conn, *, admin_id: str, jwt_secret: str, opts, joiners: int) -> dict:
    tokens = create_joiners(conn, joiners, jwt_secret)
    with server.running(env) as (base_url, _):
        event = create_queued_event(conn, admin_id)
        drive = partial(
            wrk.run,
            base_url=base_url,
            event_id=event,
            connections=opts.connections,
            threads=opts.threads,
            path=f"/api/v1/events/{event}/queue",
        )
        # the warm-up joins with other users than the measured run, which starts fresh
        half = len(tokens) // 2
        drive("queue-join-warmup", duration=opts.warmup, tokens=tokens[half:])
        before = scalar(conn, "SELECT count(*) FROM queue_entries WHERE event_id = %s", (event,))
        measured = drive("queue-join", duration=opts.duration, tokens=tokens[:half])
        after = scalar(conn, "SELECT count(*) FROM queue_entries WHERE event_id = %s", (event,))
    statuses = measured.pop("statuses")
    joins = sum(int(statuses.get(code, 0)) for code in JOIN_STATUSES)
    return {
        **measured,
        "joins_per_s": joins / opts.duration,
        "new_entries": after - before,
        "statuses": statuses,
        "status_other": {k: v for k, v in statuses.items() if k not in JOIN_STATUSES},
        "event_row_untouched": scalar(
            conn, "SELECT remaining = capacity FROM events WHERE id = %s", (event,)
        ),
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
            sql.path_of("queue/join").read_text(), inline={"user_id": "md5('bench-pgjoin-' || :n)"}
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
