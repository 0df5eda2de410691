"""The waiting room: joining, polling, the lottery, the admission rate and the pass rules.
Admission is driven here by calling the sweep directly (ticketing.queue.admission), so
each test decides when it runs; tests/test_queue_rush.py lets gunicorn's workers do it."""

import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.support.api import SIGNED_IN_LOG_KEYS
from tests.support.books import assert_books_balance
from tests.support.concurrency import run_together
from tests.support.problems import assert_problem
from ticketing.queue import repository
from ticketing.queue.admission import admit_due


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def in_seconds(seconds: float) -> str:
    return rfc3339(datetime.now(timezone.utc) + timedelta(seconds=seconds))


@pytest.fixture
def queue(client):
    """The waiting room of one event, through the API."""

    class Queue:
        def join(self, event_id, user):
            return client.post(f"/api/v1/events/{event_id}/queue", headers=user["headers"])

        def get(self, event_id, user):
            return client.get(f"/api/v1/events/{event_id}/queue", headers=user["headers"])

        def buy(self, event_id, user, queue_pass=None, quantity=1):
            headers = dict(user["headers"])
            if queue_pass is not None:
                headers["Queue-Pass"] = queue_pass
            return client.post(
                "/api/v1/orders", json={"event_id": event_id, "quantity": quantity}, headers=headers
            )

    return Queue()


@pytest.fixture
def admit(app):
    def run() -> int:
        with app.app_context():
            return admit_due()

    return run


def start_sale_now(sql, event_id):
    """The sale (and so the lottery) starts now."""
    sql.all("UPDATE events SET sale_starts_at = now() WHERE id = %s", (event_id,))


def admitted_now(admit, sql, event_id, expected):
    """Admit until `expected` entries of the event are admitted (the bucket needs time)."""
    deadline = time.monotonic() + 30
    while admitted_count(sql, event_id) < expected:
        assert time.monotonic() < deadline, "admission stalled"
        admit()
        time.sleep(0.02)


def admitted_count(sql, event_id):
    return sql.value(
        "SELECT count(*) FROM queue_entries WHERE event_id = %s AND status <> 'waiting'", (event_id,)
    )


# ------------------------------------------------------------------ joining and reading


def test_join_then_join_again_gives_the_same_entry(make_event, buyer, queue):
    event = make_event(queue={"admit_per_minute": 60})
    first = queue.join(event["id"], buyer)
    assert first.status_code == 201
    entry = first.json
    assert set(entry) == {
        "event_id",
        "status",
        "position",
        "joined_at",
        "admitted_at",
        "pass",
        "pass_expires_at",
    }
    assert entry["event_id"] == event["id"] and entry["status"] == "waiting"
    assert entry["position"] == 1
    assert entry["pass"] is None and entry["admitted_at"] is None and entry["pass_expires_at"] is None
    assert 1 <= int(first.headers["Retry-After"]) <= 60
    again = queue.join(event["id"], buyer)
    assert again.status_code == 200 and again.json == entry
    assert queue.get(event["id"], buyer).json == entry


def test_concurrent_joins_by_one_user_give_one_place(live_server, make_event, users, sql):
    event_id = make_event(queue={"admit_per_minute": 60})["id"]
    headers = users.many_headers(1)[0]
    results = run_together(
        [lambda: live_server.post(f"/api/v1/events/{event_id}/queue", headers=headers) for _ in range(12)]
    )
    assert sorted(r.status_code for r in results) == [200] * 11 + [201]
    assert len({r.json()["joined_at"] for r in results}) == 1
    assert sql.value("SELECT count(*) FROM queue_entries WHERE event_id = %s", (event_id,)) == 1


def test_unknown_event_no_queue_and_not_joined(client, make_event, buyer, admin, queue, sql):
    unknown = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
    for response in (queue.join(unknown, buyer), queue.get(unknown, buyer)):
        assert_problem(response, 404, "not-found")
    plain = make_event()["id"]
    for response in (queue.join(plain, buyer), queue.get(plain, buyer)):
        assert_problem(response, 409, "no-queue")
    assert_problem(
        client.get(f"/api/v1/events/{plain}/queue/stats", headers=admin["headers"]), 409, "no-queue"
    )
    queued = make_event(queue={"admit_per_minute": 60})["id"]
    assert_problem(queue.get(queued, buyer), 404, "not-found")
    sql.all("UPDATE events SET deleted_at = now() WHERE id = %s", (queued,))
    assert_problem(queue.join(queued, buyer), 404, "not-found")


def test_joining_needs_a_valid_token(client, make_event, users, sql):
    event_id = make_event(queue={"admit_per_minute": 60})["id"]
    assert client.post(f"/api/v1/events/{event_id}/queue").status_code == 401
    user = users.create()
    sql.all("UPDATE users SET token_version = token_version + 1 WHERE id = %s", (user["id"],))
    assert_problem(
        client.post(f"/api/v1/events/{event_id}/queue", headers=user["headers"]), 401, "unauthorized"
    )
    assert_problem(
        client.get(f"/api/v1/events/{event_id}/queue", headers=user["headers"]), 401, "unauthorized"
    )
    assert sql.value("SELECT count(*) FROM queue_entries") == 0


def test_stats_are_for_admins(client, make_event, buyer, admin, queue, admit, sql):
    event_id = make_event(queue={"admit_per_minute": 6000, "pass_seconds": 30})["id"]
    url = f"/api/v1/events/{event_id}/queue/stats"
    assert client.get(url, headers=buyer["headers"]).status_code == 403
    joiners = [buyer] + [admin]
    for user in joiners:
        queue.join(event_id, user)
    assert client.get(url, headers=admin["headers"]).json == {
        "waiting": 2,
        "admitted": 0,
        "purchased": 0,
        "expired": 0,
        "admit_per_minute": 6000,
    }
    admitted_now(admit, sql, event_id, 2)
    queue.buy(event_id, buyer, queue.get(event_id, buyer).json["pass"])
    sql.all("UPDATE queue_entries SET pass_expires_at = now() WHERE status = 'admitted'")
    stats = client.get(url, headers=admin["headers"]).json
    assert (stats["waiting"], stats["admitted"], stats["purchased"], stats["expired"]) == (0, 0, 1, 1)


# ------------------------------------------------------------------ order of admission


def test_lottery_before_the_start_then_join_order(make_event, users, queue, admit, sql):
    event_id = make_event(queue={"admit_per_minute": 1200}, sale_starts_at=in_seconds(3600))["id"]
    early = [users.create() for _ in range(40)]
    for user in early:
        entry = queue.join(event_id, user).json
        assert entry["status"] == "waiting" and entry["position"] is None, entry  # drawn at the start
    start_sale_now(sql, event_id)
    late = [users.create() for _ in range(10)]
    for user in late:
        queue.join(event_id, user)

    positions = [queue.get(event_id, user).json["position"] for user in early + late]
    early_positions = positions[: len(early)]
    assert sorted(early_positions) == list(range(1, 41))  # every early arrival before any late one
    assert early_positions != list(range(1, 41))  # ... in a drawn order, not the join order
    assert positions[len(early) :] == list(range(41, 51))  # late ones strictly in join order

    # Admission follows those places: at every step, the admitted are a prefix of them.
    by_place = [user for _, user in sorted(zip(positions, early + late), key=lambda pair: pair[0])]
    admitted_total = 0
    while admitted_total < 50:
        admit()
        statuses = [queue.get(event_id, user).json["status"] for user in by_place]
        admitted_total = statuses.count("admitted")
        assert statuses == ["admitted"] * admitted_total + ["waiting"] * (50 - admitted_total)
        time.sleep(0.05)


def test_positions_count_down_as_entries_are_admitted(make_event, users, queue, admit, sql):
    event_id = make_event(queue={"admit_per_minute": 600})["id"]
    people = [users.create() for _ in range(5)]
    for user in people:
        queue.join(event_id, user)
    assert [queue.get(event_id, u).json["position"] for u in people] == [1, 2, 3, 4, 5]
    admitted_now(admit, sql, event_id, 2)
    sql.all(  # stop admitting: no room left for more passes
        "UPDATE events SET remaining = 2, capacity = 2 WHERE id = %s", (event_id,)
    )
    admit()
    assert [queue.get(event_id, u).json["position"] for u in people[2:]] == [1, 2, 3]
    assert all(queue.get(event_id, u).json["position"] is None for u in people[:2])


def ranks(sql, event_id):
    """(rank, status) of the event's entries, by rank; and queue_admission's counters."""
    rows = sql.all("SELECT rank, status FROM queue_entries WHERE event_id = %s ORDER BY rank", (event_id,))
    counters = sql.one("SELECT ranked, admitted FROM queue_admission WHERE event_id = %s", (event_id,))
    return [(r["rank"], r["status"]) for r in rows], counters


def test_positions_hold_while_the_sweep_ranks_between_joins(make_event, users, queue, admit, sql):
    event_id = make_event(queue={"admit_per_minute": 60000}, capacity=2)["id"]
    people = [users.create() for _ in range(8)]
    for user in people[:4]:
        queue.join(event_id, user)
    admitted_now(admit, sql, event_id, 2)  # ranks 1-4; 2 passes out for 2 tickets: no room
    for user in people[4:]:  # joined since the sweep: not ranked yet
        queue.join(event_id, user)
    expected = [None, None, 1, 2, 3, 4, 5, 6]
    assert [queue.get(event_id, u).json["position"] for u in people] == expected
    admit()  # ranks the four new ones, admits nobody
    assert [queue.get(event_id, u).json["position"] for u in people] == expected
    rows, counters = ranks(sql, event_id)
    assert rows == [(1, "admitted"), (2, "admitted")] + [(n, "waiting") for n in range(3, 9)]
    assert counters == {"ranked": 8, "admitted": 2}

    first = people[0]
    assert queue.buy(event_id, first, queue.get(event_id, first).json["pass"]).status_code == 201
    sql.all("UPDATE queue_entries SET pass_expires_at = now() WHERE user_id = %s", (people[1]["id"],))
    admitted_now(admit, sql, event_id, 3)  # 1 ticket left, no pass out: one more admitted
    assert [queue.get(event_id, u).json["position"] for u in people[3:]] == [1, 2, 3, 4, 5]
    assert ranks(sql, event_id)[1] == {"ranked": 8, "admitted": 3}


def test_ranks_stay_dense_while_joins_race_the_sweeps(gunicorn, make_event, users, admit, sql):
    server = gunicorn(QUEUE_ADMIT_MS="5")  # every worker sweeps too, racing the others
    event_id = make_event(queue={"admit_per_minute": 60000}, capacity=100)["id"]
    tokens = users.many_headers(200)
    url = f"/api/v1/events/{event_id}/queue"
    joins = [lambda headers=headers: server.post(url, headers=headers) for headers in tokens]
    sweeps = [lambda: [admit() for _ in range(40)] for _ in range(3)]
    results = run_together(joins + sweeps)
    assert [r.status_code for r in results[: len(joins)]] == [201] * len(joins)
    admitted_now(admit, sql, event_id, 100)
    deadline = time.monotonic() + 30
    while sql.value("SELECT count(*) FROM queue_entries WHERE event_id = %s AND rank IS NULL", (event_id,)):
        assert time.monotonic() < deadline, "ranking stalled"
        admit()
        time.sleep(0.02)

    rows, counters = ranks(sql, event_id)
    assert [rank for rank, _ in rows] == list(range(1, 201))  # dense: no rank twice, none skipped
    assert [status for _, status in rows] == ["admitted"] * 100 + ["waiting"] * 100  # in rank order
    assert counters == {"ranked": 200, "admitted": 100}
    entries = [server.get(url, headers=headers).json() for headers in tokens]
    positions = sorted(e["position"] for e in entries if e["status"] == "waiting")
    assert positions == list(range(1, 101))


def poll_cost(sql, event_id, user_id):
    """The shared buffers one poll (sql/queue/entry.sql) of this user's entry touches."""
    plan = sql.value(
        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + repository.ENTRY.text,
        {"event_id": event_id, "user_ids": [user_id]},
    )[0]["Plan"]
    return plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]


def fill_queue(sql, event_id, count):
    """`count` users waiting in the event's queue, joined after the start (no API: speed)."""
    sql.all(
        "WITH joiners AS ("
        "    INSERT INTO users (name, email, password_hash)"
        "    SELECT 'Waiting ' || n, 'waiting-' || gen_random_uuid() || '@example.com', 'x'"
        "      FROM generate_series(1, %s) AS n RETURNING id)"
        " INSERT INTO queue_entries (event_id, user_id, place)"
        " SELECT %s, id, nextval('queue_places') FROM joiners",
        (count, event_id),
    )


def test_a_poll_costs_the_same_however_long_the_queue(make_event, users, queue, admit, sql):
    costs = {}
    for length in (10, 20000):
        event_id = make_event(queue={"admit_per_minute": 60000}, capacity=1)["id"]
        queue.join(event_id, users.create())  # the room's bucket
        fill_queue(sql, event_id, length)
        admitted_now(admit, sql, event_id, 1)  # ranks them all; admits the first (1 ticket)
        ranked, late = users.create(), users.create()
        queue.join(event_id, ranked)
        admit()
        queue.join(event_id, late)  # joined since the last sweep
        assert queue.get(event_id, ranked).json["position"] == length + 1
        assert queue.get(event_id, late).json["position"] == length + 2
        costs[length] = [poll_cost(sql, event_id, user["id"]) for user in (ranked, late)]
    # Counting the waiting entries ahead read about one page per 300 of them (~70 here).
    assert all(long <= short + 8 for short, long in zip(costs[10], costs[20000])), costs


def test_admission_rate_is_admit_per_minute_within_one_seconds_worth(make_event, users, queue, admit, sql):
    rate = 1200  # 20 a second
    per_second = rate / 60
    event_id = make_event(queue={"admit_per_minute": rate}, sale_starts_at=in_seconds(3600))["id"]
    for headers in users.many_headers(400):
        queue.join(event_id, {"headers": headers})
    start_sale_now(sql, event_id)
    opened = time.monotonic()
    samples, biggest_step, last = [], 0, 0
    while time.monotonic() - opened < 6:
        admit()
        count = admitted_count(sql, event_id)
        samples.append((time.monotonic() - opened, count))
        biggest_step, last = max(biggest_step, count - last), count
        time.sleep(0.03)
    for elapsed, count in samples:
        assert abs(count - elapsed * per_second) <= per_second + 1, (elapsed, count)
    assert biggest_step <= per_second
    first, final = sql.one(
        "SELECT min(admitted_at) AS first, max(admitted_at) AS final FROM queue_entries WHERE event_id = %s",
        (event_id,),
    ).values()
    spread = (final - first).total_seconds()
    assert abs(last - 1 - spread * per_second) <= per_second, (last, spread)


def test_admission_never_puts_more_passes_out_than_tickets_left(make_event, users, queue, admit, sql):
    event_id = make_event(queue={"admit_per_minute": 60000}, capacity=3)["id"]
    people = [users.create() for _ in range(6)]
    for user in people:
        queue.join(event_id, user)
    time.sleep(0.1)
    for _ in range(3):
        admit()
    assert admitted_count(sql, event_id) == 3
    first = people[0]
    assert queue.buy(event_id, first, queue.get(event_id, first).json["pass"], quantity=2).status_code == 201
    time.sleep(0.05)
    admit()
    assert admitted_count(sql, event_id) == 3  # 1 ticket left, 2 passes out


def test_waiting_entries_report_sold_out_and_resume_in_place(make_event, users, queue, admit, sql, client):
    event_id = make_event(queue={"admit_per_minute": 60000}, capacity=1)["id"]
    buyer, second, third = users.create(), users.create(), users.create()
    for user in (buyer, second, third):
        queue.join(event_id, user)
    admitted_now(admit, sql, event_id, 1)
    order = queue.buy(event_id, buyer, queue.get(event_id, buyer).json["pass"]).json
    sold_out = queue.get(event_id, second)
    assert sold_out.json["status"] == "sold_out" and sold_out.json["position"] is None
    assert sold_out.headers["Retry-After"] == "60"
    admit()
    assert queue.get(event_id, second).json["status"] == "sold_out"  # nobody admitted in vain
    client.post(f"/api/v1/orders/{order['id']}/cancel", headers=buyer["headers"])
    assert [queue.get(event_id, u).json["position"] for u in (second, third)] == [1, 2]
    admitted_now(admit, sql, event_id, 2)
    assert queue.get(event_id, second).json["status"] == "admitted"
    assert queue.get(event_id, third).json["status"] == "waiting"


def test_retry_after_says_when_polling_is_worth_it(make_event, users, queue, sql):
    event_id = make_event(queue={"admit_per_minute": 60}, sale_starts_at=in_seconds(30))["id"]
    people = [users.create() for _ in range(3)]
    before = queue.join(event_id, people[0])
    assert 25 <= int(before.headers["Retry-After"]) <= 30  # the start
    start_sale_now(sql, event_id)
    for user in people[1:]:
        queue.join(event_id, user)
    assert [int(queue.get(event_id, u).headers["Retry-After"]) for u in people] == [1, 2, 3]  # 1 a second


# ------------------------------------------------------------------ the pass


@pytest.fixture
def admitted(make_event, users, queue, admit, sql):
    """An event with a waiting room (room for 10) and `buyer`, admitted with a pass."""
    event = make_event(queue={"admit_per_minute": 60000, "pass_seconds": 30}, capacity=10, max_per_user=2)
    buyer = users.create()
    queue.join(event["id"], buyer)
    admitted_now(admit, sql, event["id"], 1)
    entry = queue.get(event["id"], buyer).json
    assert entry["status"] == "admitted" and entry["pass"]
    return event["id"], buyer, entry


def test_each_refusal_of_a_pass(admitted, make_event, users, queue, admit, sql):
    event_id, buyer, entry = admitted
    refusals = {
        "missing": queue.buy(event_id, buyer),
        "unknown": queue.buy(event_id, buyer, "not-a-pass"),
        "another user": queue.buy(event_id, users.create(), entry["pass"]),
    }
    other_id = make_event(queue={"admit_per_minute": 60})["id"]
    queue.join(other_id, buyer)
    refusals["another event"] = queue.buy(other_id, buyer, entry["pass"])
    details = {}
    for case, response in refusals.items():
        details[case] = assert_problem(response, 403, "queue-pass-required", "/api/v1/orders")["detail"]
    assert len(set(details.values())) == 4, details
    assert queue.get(event_id, buyer).json["status"] == "admitted"  # still valid
    assert sql.value("SELECT count(*) FROM orders") == 0


def test_a_pass_works_exactly_once(admitted, queue, sql):
    event_id, buyer, entry = admitted
    assert queue.buy(event_id, buyer, entry["pass"]).status_code == 201
    used = assert_problem(queue.buy(event_id, buyer, entry["pass"]), 403, "queue-pass-required")
    assert "used" in used["detail"]
    after = queue.get(event_id, buyer).json
    assert after["status"] == "purchased" and after["pass"] is None
    assert_books_balance(sql)


def test_racing_purchases_with_one_pass_buy_once(purchase_server, admitted, sql):
    event_id, buyer, entry = admitted
    headers = {**buyer["headers"], "Queue-Pass": entry["pass"]}
    results = run_together(
        [
            lambda: purchase_server.post(
                "/api/v1/orders", json={"event_id": event_id, "quantity": 1}, headers=headers
            )
            for _ in range(10)
        ]
    )
    assert sorted(r.status_code for r in results) == [201] + [403] * 9
    assert sql.value("SELECT count(*) FROM orders") == 1
    assert_books_balance(sql)


def test_a_failed_purchase_leaves_the_pass_valid(admitted, queue):
    event_id, buyer, entry = admitted
    assert_problem(queue.buy(event_id, buyer, entry["pass"], quantity=3), 409, "per-user-limit")
    assert_problem(queue.buy(event_id, buyer, entry["pass"], quantity=11), 422, "validation-error")
    assert queue.get(event_id, buyer).json["status"] == "admitted"
    assert queue.buy(event_id, buyer, entry["pass"], quantity=2).status_code == 201


def test_an_expired_pass_is_refused_and_its_owner_joins_again_at_the_back(admitted, users, queue, sql):
    event_id, buyer, entry = admitted
    other = users.create()
    queue.join(event_id, other)
    sql.all("UPDATE queue_entries SET pass_expires_at = now() WHERE pass = %s", (entry["pass"],))
    assert queue.get(event_id, buyer).json["status"] == "expired"
    expired = assert_problem(queue.buy(event_id, buyer, entry["pass"]), 403, "queue-pass-required")
    assert "expired" in expired["detail"]
    again = queue.join(event_id, buyer)
    assert again.status_code == 201
    assert again.json["status"] == "waiting" and again.json["position"] == 2  # behind `other`
    assert sql.value("SELECT count(*) FROM queue_entries WHERE user_id = %s", (buyer["id"],)) == 2


def test_after_buying_one_joins_again_at_the_back(admitted, queue):
    event_id, buyer, entry = admitted
    queue.buy(event_id, buyer, entry["pass"])
    again = queue.join(event_id, buyer)
    assert again.status_code == 201 and again.json["status"] == "waiting"


def test_turning_the_queue_off_lets_everyone_buy_directly(admitted, client, admin, users, queue):
    event_id, _, _ = admitted
    response = client.patch(f"/api/v1/events/{event_id}", json={"queue": None}, headers=admin["headers"])
    assert response.status_code == 200
    assert queue.buy(event_id, users.create()).status_code == 201


def test_joins_and_polls_never_touch_the_events_row(make_event, users, queue, admit, sql, database_url):
    """With the event's row locked by someone else (as a purchase holds it during a rush),
    joining, polling, admission and stats still answer at once, and the row is unchanged."""
    import psycopg2

    event_id = make_event(queue={"admit_per_minute": 60000})["id"]
    before = sql.value("SELECT xmin::text FROM events WHERE id = %s", (event_id,))
    holder = psycopg2.connect(database_url)
    before_xmax = "0"
    try:
        with holder.cursor() as cur:  # an open transaction holding the row lock, as a purchase does
            cur.execute("UPDATE events SET remaining = remaining - 1 WHERE id = %s", (event_id,))
            people = [users.create() for _ in range(5)]
            started = time.monotonic()
            for user in people:
                assert queue.join(event_id, user).status_code == 201
                assert queue.join(event_id, user).status_code == 200
                assert queue.get(event_id, user).status_code == 200
            time.sleep(0.05)
            admit()
            assert time.monotonic() - started < 2  # DB_LOCK_TIMEOUT_MS would be 3 s
            assert admitted_count(sql, event_id) >= 1
            before_xmax = sql.value("SELECT xmax::text FROM events WHERE id = %s", (event_id,))
    finally:
        holder.rollback()
        holder.close()
    assert sql.value("SELECT xmin::text FROM events WHERE id = %s", (event_id,)) == before
    # not even a row lock (a foreign-key check would leave its locker in xmax)
    queue.join(event_id, users.create())
    assert sql.value("SELECT xmax::text FROM events WHERE id = %s", (event_id,)) in ("0", before_xmax)


def test_entries_are_served_exactly_as_the_schema_dumps_them(app, make_event, users, queue, admit, sql):
    """Joining and polling skip marshmallow (schemas.entry_json): the bytes are the ones
    QueueEntryOut().dump() gives, in every status and with and without microseconds."""
    from ticketing.queue import repository
    from ticketing.queue.schemas import QueueEntryOut, entry_json

    event_id = make_event(queue={"admit_per_minute": 60000}, capacity=10)["id"]
    people = [users.create() for _ in range(4)]
    for user in people[:3]:
        assert queue.join(event_id, user).status_code == 201
    sql.all(
        "UPDATE queue_entries SET joined_at = date_trunc('second', joined_at) WHERE user_id = %s",
        (people[0]["id"],),
    )
    admitted_now(admit, sql, event_id, 3)  # people 0-2 admitted; 3 joins after, and waits
    assert queue.join(event_id, people[3]).status_code == 201
    assert queue.buy(event_id, people[1], queue.get(event_id, people[1]).json["pass"]).status_code == 201
    sql.all("UPDATE queue_entries SET pass_expires_at = now() WHERE user_id = %s", (people[2]["id"],))
    rows = []
    with app.app_context():
        rows.extend(repository.entry(event_id=event_id, user_ids=[user["id"] for user in people]))
        sql.all("UPDATE events SET remaining = 0 WHERE id = %s", (event_id,))
        rows.extend(repository.entry(event_id=event_id, user_ids=[people[3]["id"]]))
    assert [row["status"] for row in rows] == ["admitted", "purchased", "expired", "waiting", "sold_out"]
    for row in rows:
        assert entry_json(row) == app.json.response(QueueEntryOut().dump(row)).get_data()
    served = queue.get(event_id, people[3])
    assert served.get_data() == entry_json(rows[-1])
    assert served.mimetype == "application/json"


def test_the_fast_lane_answers_exactly_as_flask_does(app, make_event, users, queue, capsys, monkeypatch):
    """Successful joins and polls are answered in front of Flask (ticketing/queue/fastlane.py):
    same status, bytes, headers in the same order, request log line; anything else is Flask's."""
    import json

    from werkzeug.test import Client

    from ticketing.queue.fastlane import FastLane

    lane = app.wsgi_app.app
    assert isinstance(lane, FastLane)
    flask_only = Client(lane.inner)
    handed_on = []  # the requests the lane passed to Flask (its `inner`, counted on the way)
    inner = lane.inner

    def counted(environ, start_response):
        if environ["PATH_INFO"].endswith("/queue"):
            handed_on.append(environ["REQUEST_METHOD"])
        return inner(environ, start_response)

    monkeypatch.setattr(lane, "inner", counted)
    event_id = make_event(queue={"admit_per_minute": 60})["id"]
    ahead, user = users.create(), users.create()
    assert queue.join(event_id, ahead).status_code == 201
    url = f"/api/v1/events/{event_id}/queue"
    traced = {**user["headers"], "X-Request-ID": "trace-1"}
    capsys.readouterr()
    first = queue.join(event_id, user)
    assert first.status_code == 201 and first.json["position"] == 2
    for method in ("POST", "GET"):
        fast = queue.join(event_id, user) if method == "POST" else queue.get(event_id, user)
        slow = flask_only.open(url, method=method, headers=user["headers"])
        assert (fast.status, fast.get_data()) == (slow.status, slow.get_data()) == ("200 OK", fast.get_data())
        assert [k for k, _ in fast.headers] == [k for k, _ in slow.headers]
        assert [(k, v) for k, v in fast.headers if k != "X-Request-ID"] == [
            (k, v) for k, v in slow.headers if k != "X-Request-ID"
        ]
        assert fast.headers["Retry-After"] == "2"
        traced_fast = queue.get(event_id, {"headers": traced}) if method == "GET" else None
        if traced_fast is not None:
            assert traced_fast.headers["X-Request-ID"] == "trace-1"
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["method"], line["status"]) for line in lines] == [
        ("POST", 201),
        ("POST", 200),
        ("POST", 200),
        ("GET", 200),
        ("GET", 200),
        ("GET", 200),
    ]
    for line in lines:
        assert list(line) == SIGNED_IN_LOG_KEYS
        assert (line["path"], line["user_id"]) == (url, user["id"])
    assert lines[-1]["request_id"] == "trace-1"
    assert handed_on == []  # every one of those answered by the lane itself
    # refusals are Flask's own answers, whichever lane the request entered
    assert queue.get(event_id, users.create()).status_code == 404
    assert queue.join(event_id, {"headers": {}}).headers["WWW-Authenticate"] == "Bearer"
    assert app.test_client().open(url, method="HEAD", headers=user["headers"]).status_code == 200
    assert handed_on == ["GET", "POST", "HEAD"]
