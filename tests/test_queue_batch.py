"""Joins and polls in batches: sql/queue/join.sql makes several callers' joins of one event
in one statement, each exactly as it makes one caller's, and sql/queue/entry.sql reads
several callers' entries likewise; the queue batchers (QUEUE_BATCHING) group concurrent
joins and polls through the API."""

from __future__ import annotations

import time
from collections import Counter

from tests.support.concurrency import rush
from ticketing import db, sql
from ticketing.queue import repository


def batch_metric(server, kind: str) -> tuple[float, float]:
    """(callers, statements) so far of the server's queue batcher of `kind` (join, poll)."""
    import re

    import requests

    text = requests.get(server.metrics_url, timeout=5).text
    return tuple(
        sum(
            float(v)
            for v in re.findall(
                rf'^ticketing_queue_batch_size_{part}{{[^}}]*kind="{kind}"[^}}]*}} (\S+)$', text, re.M
            )
        )
        for part in ("sum", "count")
    )


def joiners(users, count):
    return [users.create(name=f"Joiner {i}")["id"] for i in range(count)]


def test_a_batch_gives_each_caller_what_joining_alone_would(app, make_event, users, sql):
    event_id = make_event(queue={"admit_per_minute": 60})["id"]
    waiting, first, revoked, second, rejoining = joiners(users, 5)
    sql.all(  # an admitted entry whose pass has run out: its owner joins again, at the back
        "INSERT INTO queue_entries (event_id, user_id, place, status, admitted_at, pass, pass_expires_at)"
        " VALUES (%s, %s, 0.5, 'admitted', now() - interval '10 minutes', 'old-pass', now() - interval '1 minute')",
        (event_id, rejoining),
    )
    with app.app_context():
        (earlier,) = repository.join(event_id=event_id, requests=[{"user_id": waiting, "token_version": 0}])
        rows = repository.join(
            event_id=event_id,
            requests=[
                {"user_id": first, "token_version": 0},
                {"user_id": waiting, "token_version": 0},
                {"user_id": revoked, "token_version": 7},  # a token from before a password change
                {"user_id": second, "token_version": 0},
                {"user_id": rejoining, "token_version": 0},
            ],
        )
        (alone,) = repository.join(event_id=event_id, requests=[{"user_id": revoked, "token_version": 7}])
    assert all(row.keys() == earlier.keys() for row in rows)
    assert rows[2] == alone  # refused, as alone: no entry, and the version that says why
    assert rows[2]["entry_id"] is None and rows[2]["token_version"] == 0 and rows[2]["queued"]
    made = [rows[0], rows[1], rows[3], rows[4]]
    assert [row["created"] for row in made] == [True, False, True, True]
    assert [row["status"] for row in made] == ["waiting"] * 4
    assert rows[1]["entry_id"] == earlier["entry_id"] and rows[1]["position"] == 1
    # new places in arrival order, behind the entry already waiting and each other
    assert [rows[0]["position"], rows[3]["position"], rows[4]["position"]] == [2, 3, 4]
    entries = sql.all(
        "SELECT user_id::text, status FROM queue_entries WHERE event_id = %s ORDER BY place", (event_id,)
    )
    assert [(e["user_id"], e["status"]) for e in entries] == [
        (rejoining, "expired"),
        (waiting, "waiting"),
        (first, "waiting"),
        (second, "waiting"),
        (rejoining, "waiting"),
    ]


def test_a_batch_for_an_event_without_a_room_or_unknown_makes_nothing(app, make_event, users, sql):
    plain = make_event()["id"]
    unknown = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
    people = joiners(users, 2)
    requests = [{"user_id": user, "token_version": 0} for user in people]
    with app.app_context():
        rows = repository.join(event_id=plain, requests=requests)
        assert [(r["event_found"], r["queued"], r["entry_id"]) for r in rows] == [(True, False, None)] * 2
        rows = repository.join(event_id=unknown, requests=requests)
        assert [(r["event_found"], r["entry_id"]) for r in rows] == [(False, None)] * 2
    assert sql.value("SELECT count(*) FROM queue_entries") == 0
    assert sql.value("SELECT count(*) FROM queue_admission") == 0


def test_batches_always_run_their_generic_plan(app, make_event, users):
    """A batch smaller than the 10 rows PostgreSQL assumes of an array's unnest() would
    otherwise be re-planned on every execution (ticketing/sql.py, GENERIC_PLAN)."""
    event_id = make_event(queue={"admit_per_minute": 60})["id"]
    plans = sql.Query(
        "plans", "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = %(name)s"
    )
    with app.app_context(), db.current().connection() as conn:
        tx = db.Tx(conn)
        for _ in range(8):
            pair = [{"user_id": user, "token_version": 0} for user in joiners(users, 2)]
            rows = tx.all(
                repository.JOIN,
                event_id=event_id,
                user_ids=[r["user_id"] for r in pair],
                token_versions=[0, 0],
            )
            assert [row["created"] for row in rows] == [True, True]
        counts = tx.one(plans, name=repository.JOIN.prepared.name)
    assert counts["custom_plans"] == 0 and counts["generic_plans"] >= 8, counts


def test_a_rush_of_joins_is_made_in_batches_through_the_api(live_server, users, make_event, sql):
    """Through gunicorn (threaded workers, join batching on by default): 200 concurrent
    joins of one event, among them revoked tokens and callers joining twice at once, are
    made by statements of several joins; every caller has one place, in distinct places,
    and the revoked ones none; then their 180 concurrent polls, read in batches, show
    positions 1-180."""
    event_id = make_event(queue={"admit_per_minute": 60})["id"]
    url = f"/api/v1/events/{event_id}/queue"
    headers = users.many_headers(180)
    revoked_users = [users.create() for _ in range(10)]
    revoked = [user["headers"] for user in revoked_users]
    sql.all(
        "UPDATE users SET token_version = 1 WHERE id = ANY(%s::uuid[])",
        ([user["id"] for user in revoked_users],),
    )
    calls = headers + revoked + headers[:10]  # the first ten join twice, at the same time
    before = batch_metric(live_server, "join")

    def join(i, session):
        return live_server.post(url, session=session, headers=calls[i]).status_code

    statuses = rush(len(calls), join)
    assert Counter(statuses) == {201: 180, 200: 10, 401: 10}, Counter(statuses)
    entries = sql.all("SELECT user_id, place FROM queue_entries WHERE event_id = %s", (event_id,))
    assert len(entries) == 180 and len({e["user_id"] for e in entries}) == 180
    assert len({e["place"] for e in entries}) == 180
    time.sleep(2.5)  # the workers flush their metrics every second
    after = batch_metric(live_server, "join")
    joins, statements = after[0] - before[0], after[1] - before[1]
    assert joins >= 190  # every join with a valid token went through the batcher
    # some statements made several joins (how many depends on the machine's timing)
    assert statements < joins, f"{statements} statements for {joins} joins: none batched"
    print(f"{joins:.0f} joins in {statements:.0f} statements")
    polls_before = batch_metric(live_server, "poll")

    def poll(i, session):
        response = live_server.get(url, session=session, headers=headers[i])
        assert response.status_code == 200, response.text
        return response.json()["position"]

    assert sorted(rush(len(headers), poll)) == list(range(1, 181))
    time.sleep(2.5)
    polls_after = batch_metric(live_server, "poll")
    polls, reads = polls_after[0] - polls_before[0], polls_after[1] - polls_before[1]
    assert polls == 180 and reads < polls, f"{reads} reads for {polls} polls: none batched"
    print(f"{polls:.0f} polls in {reads:.0f} reads")


def test_a_batched_read_gives_each_caller_what_reading_alone_would(app, make_event, users, sql):
    event_id = make_event(queue={"admit_per_minute": 60000}, capacity=1)["id"]
    admitted, waiting, later, never = joiners(users, 4)
    with app.app_context():
        repository.join(
            event_id=event_id,
            requests=[{"user_id": u, "token_version": 0} for u in (admitted, waiting, later)],
        )
        from ticketing.queue.admission import admit_due

        deadline = time.monotonic() + 10
        while not admit_due():  # the first is admitted (1 ticket: the only pass)
            assert time.monotonic() < deadline
            time.sleep(0.02)
        everyone = [later, never, admitted, waiting]
        batched = repository.entry(event_id=event_id, user_ids=everyone)
        alone = [repository.entry(event_id=event_id, user_ids=[user])[0] for user in everyone]
        elsewhere = repository.entry(event_id=make_event()["id"], user_ids=everyone)
        nowhere = repository.entry(event_id="6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f", user_ids=everyone)
    assert batched == alone
    assert [(r["status"], r["position"]) for r in batched] == [
        ("waiting", 2),
        (None, None),
        ("admitted", None),
        ("waiting", 1),
    ]
    assert batched[2]["pass"] is not None
    assert all(r["queued"] is False and r["status"] is None for r in elsewhere)
    assert all(r["event_found"] is False for r in nowhere)
