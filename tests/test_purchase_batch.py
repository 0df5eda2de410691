"""sql/orders/purchase_batch.sql on its own: a batch of purchases of one event in one
statement, each request sold all or nothing in arrival order, every rule of the single
purchase (sql/orders/purchase.sql) per request, nothing it cannot sell is refused for good
(the service runs those through the single path)."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import psycopg2
import pytest

from tests.support.books import assert_books_balance, remaining
from ticketing.orders import repository


@pytest.fixture
def batch(app):
    """batch(event_id, requests) -> one order (or None) per request, in order."""

    def run(event_id, requests, hold_seconds=900):
        full = [
            {
                "token_version": 0,
                "quantity": 1,
                "ticket_type_id": None,
                "queue_pass": None,
                "idempotency_key": None,
                "request_hash": None,
                **r,
            }
            for r in requests
        ]
        with app.app_context():
            return repository.purchase_batch(event_id=event_id, hold_seconds=hold_seconds, requests=full)

    return run


def buyers(users, count):
    return [users.create(name=f"Buyer {i}")["id"] for i in range(count)]


def test_sells_in_arrival_order_while_it_fits_and_each_order_whole(batch, make_event, users, sql):
    event = make_event(capacity=5)
    ids = buyers(users, 4)
    results = batch(event["id"], [{"user_id": u, "quantity": 2} for u in ids])
    assert [r is not None for r in results] == [True, True, False, False]
    assert [len(r["tickets"]) for r in results[:2]] == [2, 2]
    assert [str(r["user_id"]) for r in results[:2]] == ids[:2]
    assert remaining(sql, event["id"]) == 1
    assert sql.value("SELECT count(*) FROM tickets WHERE event_id = %s", (event["id"],)) == 4
    holdings = sql.all("SELECT user_id::text, tickets FROM holdings WHERE event_id = %s", (event["id"],))
    assert sorted((h["user_id"], h["tickets"]) for h in holdings) == sorted((u, 2) for u in ids[:2])
    assert_books_balance(sql)


def test_an_order_too_big_alone_does_not_block_later_small_ones(batch, make_event, users, sql):
    event = make_event(capacity=3, max_per_order=10)
    ids = buyers(users, 3)
    results = batch(
        event["id"], [{"user_id": ids[0], "quantity": 5}, {"user_id": ids[1]}, {"user_id": ids[2]}]
    )
    assert [r is not None for r in results] == [False, True, True]
    assert remaining(sql, event["id"]) == 1


def test_returns_orders_shaped_like_the_single_purchase(app, batch, make_event, users):
    event = make_event(capacity=10)
    first, second = buyers(users, 2)
    (batched,) = batch(event["id"], [{"user_id": first, "quantity": 2}])
    with app.app_context():
        single = repository.purchase(
            user_id=second, token_version=0, event_id=event["id"], quantity=2, hold_seconds=900
        )
    assert batched.keys() == single.keys()
    assert {k: type(v) for k, v in batched.items()} == {k: type(v) for k, v in single.items()}
    assert batched["event"] == single["event"]
    assert batched["ticket_type_name"] == single["ticket_type_name"]
    assert batched["tickets"][0].keys() == single["tickets"][0].keys()


def test_one_request_per_user_per_batch(batch, make_event, users, sql):
    event = make_event(capacity=10, max_per_user=10)
    (user,) = buyers(users, 1)
    results = batch(event["id"], [{"user_id": user, "quantity": 2}, {"user_id": user, "quantity": 3}])
    assert results[0] is not None and results[1] is None
    assert sql.value("SELECT tickets FROM holdings WHERE user_id = %s", (user,)) == 2
    assert remaining(sql, event["id"]) == 8


def test_every_refusal_rule_leaves_the_request_unsold(batch, make_event, users, sql):
    event = make_event(capacity=10, max_per_order=4, max_per_user=5)
    ids = buyers(users, 6)
    sql.all("INSERT INTO holdings (event_id, user_id, tickets) VALUES (%s, %s, 4)", (event["id"], ids[3]))
    sql.all(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, response_status, response_body)"
        " VALUES (%s, 'used-key', 'h', 409, '{}')",
        (ids[4],),
    )
    other = make_event(capacity=10)
    results = batch(
        event["id"],
        [
            {"user_id": ids[0], "token_version": 1},  # revoked token
            {"user_id": ids[1], "quantity": 5},  # over max_per_order
            {"user_id": str(uuid.uuid4())},  # no such account
            {"user_id": ids[3], "quantity": 2},  # over max_per_user (holds 4 of 5)
            {"user_id": ids[4], "idempotency_key": "used-key", "request_hash": "h"},  # key claimed
            {"user_id": ids[5], "ticket_type_id": other["ticket_types"][0]["id"]},  # another event's type
        ],
    )
    assert results == [None] * 6
    assert remaining(sql, event["id"]) == 10
    assert sql.value("SELECT count(*) FROM orders") == 0


@pytest.mark.parametrize(
    "change",
    [
        "date = now() - interval '1 hour'",  # closed
        "sale_starts_at = now() + interval '1 hour'",  # not on sale yet
        "deleted_at = now()",
        "remaining = 0",
    ],
)
def test_an_event_that_sells_nothing_takes_no_lock_and_sells_nothing(batch, make_event, users, sql, change):
    event = make_event(capacity=10)
    sql.all(f"UPDATE events SET {change} WHERE id = %s", (event["id"],))
    results = batch(event["id"], [{"user_id": u} for u in buyers(users, 2)])
    assert results == [None, None]
    assert sql.value("SELECT count(*) FROM orders") == 0


def test_types_each_within_their_own_remaining_and_the_shared_cap(batch, make_event, users, sql):
    event = make_event(
        capacity=5,
        price=50.0,
        ticket_types=[
            {"name": "General", "price": 50.0, "capacity": 4},
            {"name": "VIP", "price": 200.0, "capacity": 1},
        ],
    )
    general, vip = (t["id"] for t in event["ticket_types"])
    ids = buyers(users, 5)
    results = batch(
        event["id"],
        [
            {"user_id": ids[0], "ticket_type_id": vip},
            {"user_id": ids[1], "ticket_type_id": vip},  # VIP is sold out now
            {"user_id": ids[2], "quantity": 3},  # the first type by default
            {"user_id": ids[3], "ticket_type_id": general, "quantity": 2},  # only 1 General left
            {"user_id": ids[4], "ticket_type_id": general},
        ],
    )
    assert [r is not None for r in results] == [True, False, True, False, False]
    assert results[0]["unit_price"] == 200 and results[0]["ticket_type_name"] == "VIP"
    assert results[2]["unit_price"] == 50 and str(results[2]["ticket_type_id"]) == general
    rows = sql.all("SELECT name, remaining FROM ticket_types WHERE event_id = %s", (event["id"],))
    types = {r["name"]: r["remaining"] for r in rows}
    assert types == {"General": 1, "VIP": 0}
    assert remaining(sql, event["id"]) == 1
    assert_books_balance(sql)


def admit_pass(sql, event_id, user_id, pass_value, expires="1 hour"):
    sql.all(
        "INSERT INTO queue_entries (event_id, user_id, place, status, admitted_at, pass, pass_expires_at)"
        " VALUES (%s, %s, random(), 'admitted', now(), %s, now() + %s::interval)",
        (event_id, user_id, pass_value, expires),
    )


def test_queue_passes_valid_mine_and_used_once(batch, make_event, users, sql):
    event = make_event(capacity=10, queue={"admit_per_minute": 600})
    ids = buyers(users, 5)
    admit_pass(sql, event["id"], ids[0], "pass-0")
    admit_pass(sql, event["id"], ids[1], "pass-1")
    admit_pass(sql, event["id"], ids[2], "pass-2", expires="-1 second")
    results = batch(
        event["id"],
        [
            {"user_id": ids[0], "queue_pass": "pass-0"},
            {"user_id": ids[3], "queue_pass": "pass-1"},  # someone else's pass
            {"user_id": ids[2], "queue_pass": "pass-2"},  # expired
            {"user_id": ids[4]},  # none
            {"user_id": ids[1], "queue_pass": "pass-1"},
        ],
    )
    assert [r is not None for r in results] == [True, False, False, False, True]
    statuses = dict((r["pass"], r["status"]) for r in sql.all("SELECT pass, status FROM queue_entries"))
    assert statuses == {"pass-0": "purchased", "pass-1": "purchased", "pass-2": "admitted"}
    again = batch(event["id"], [{"user_id": ids[0], "queue_pass": "pass-0"}])
    assert again == [None]


def test_idempotency_keys_are_claimed_with_their_orders(batch, make_event, users, sql):
    event = make_event(capacity=10)
    ids = buyers(users, 2)
    results = batch(
        event["id"],
        [{"user_id": ids[0], "idempotency_key": "k-1", "request_hash": "h1"}, {"user_id": ids[1]}],
    )
    assert all(results)
    keys = sql.all("SELECT user_id::text, key, request_hash, order_id FROM idempotency_keys")
    assert keys == [{"user_id": ids[0], "key": "k-1", "request_hash": "h1", "order_id": results[0]["id"]}]


def test_a_key_claimed_concurrently_fails_the_whole_batch(batch, make_event, users, sql, owner_database_url):
    """The snapshot misses a key claimed by a transaction that commits while the batch
    waits on the key's unique index: the statement fails and sells nothing (the service
    then runs each request through the single path)."""
    event = make_event(capacity=10)
    ids = buyers(users, 2)
    racer = psycopg2.connect(owner_database_url)
    try:
        with racer.cursor() as cur:
            cur.execute(
                "INSERT INTO idempotency_keys (user_id, key, request_hash, response_status, response_body)"
                " VALUES (%s, 'raced', 'h', 409, '{}')",
                (ids[0],),
            )
        outcome = {}

        def run():
            try:
                outcome["results"] = batch(
                    event["id"],
                    [
                        {"user_id": ids[1]},
                        {"user_id": ids[0], "idempotency_key": "raced", "request_hash": "h"},
                    ],
                )
            except Exception as exc:  # noqa: BLE001 - the failure is the point
                outcome["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        thread.join(1.0)
        racer.commit()
        thread.join(10)
    finally:
        racer.close()
    assert isinstance(outcome.get("error"), psycopg2.errors.UniqueViolation), outcome
    assert remaining(sql, event["id"]) == 10
    assert sql.value("SELECT count(*) FROM orders") == 0


def metric(server, name) -> float:
    """The sum of a metric's samples as the server's metrics listener shows them now."""
    import re

    import requests

    text = requests.get(server.metrics_url, timeout=5).text
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))


def test_a_rush_is_sold_in_batches_through_the_api(batched_live_server, users, make_event, sql):
    """Through gunicorn (gthread, batching on): 200 concurrent buyers of one event are
    mostly sold by multi-purchase statements, and the books balance."""
    import time
    from collections import Counter

    from tests.support.concurrency import rush

    server = batched_live_server
    event_id = make_event(capacity=1000)["id"]
    buyers = users.many_headers(200)
    before = (
        metric(server, "ticketing_purchase_batch_size_sum"),
        metric(server, "ticketing_purchase_batch_size_count"),
    )

    def buy(i, session):
        response = server.post(
            "/api/v1/orders", session=session, json={"event_id": event_id, "quantity": 1}, headers=buyers[i]
        )
        return response.status_code

    statuses = Counter(rush(len(buyers), buy))
    assert statuses == {201: 200}, statuses
    time.sleep(2.5)  # the workers flush their metrics every second
    purchases = metric(server, "ticketing_purchase_batch_size_sum") - before[0]
    statements = metric(server, "ticketing_purchase_batch_size_count") - before[1]
    assert purchases == 200
    assert statements < 100, f"{statements} statements for 200 purchases: hardly batched"
    print(f"200 purchases in {statements:.0f} statements")
    assert remaining(sql, event_id) == 800
    assert_books_balance(sql)


def app_pool_workers(server) -> list[int]:
    """The front door's app-pool gunicorn workers (the children of its app masters)."""
    from tests.support.frontdoor import app_masters

    return [child.pid for master in app_masters(server).values() for child in master.children()]


def test_a_worker_killed_mid_batch_leaves_nothing_half_done(front_door, users, make_event, sql):
    """SIGKILL app workers while batches are in flight: the clients see only 201, 409 and
    503 (nginx answers for a dead upstream), every 201 is an order in the database, and the
    books and the per-user counters balance."""
    import os
    import signal
    import time

    import requests

    from tests.conftest import BATCHED
    from tests.support.timeouts import REQUEST_TIMEOUT

    server = front_door(**BATCHED, WEB_CONCURRENCY="2", APP_MAX_CONNS="64", RATE_LIMITS="off")
    event_id = make_event(capacity=300)["id"]
    buyers = users.many_headers(480)
    clients = 32
    answers: list[tuple[int, dict]] = []

    def client(k):
        with requests.Session() as session:
            for i in range(k, len(buyers), clients):
                try:
                    response = session.post(
                        server("/api/v1/orders"),
                        json={"event_id": event_id, "quantity": 1},
                        headers=buyers[i],
                        timeout=REQUEST_TIMEOUT,
                    )
                except requests.RequestException as exc:  # a broken answer: fails below
                    answers.append((type(exc).__name__, {}))
                else:
                    answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    killed = 0
    for _ in range(3):
        time.sleep(0.4)
        for pid in app_pool_workers(server)[:1]:
            os.kill(pid, signal.SIGKILL)
            killed += 1
    for thread in threads:
        thread.join(120)
    assert killed >= 2 and not any(t.is_alive() for t in threads)
    statuses = Counter(status for status, _ in answers)
    print("statuses after kills:", dict(statuses))
    assert set(statuses) <= {201, 409, 503}, statuses
    assert statuses[201] > 0
    confirmed = {body["id"] for status, body in answers if status == 201}
    stored = {str(r["id"]) for r in sql.all("SELECT id FROM orders WHERE event_id = %s", (event_id,))}
    assert confirmed <= stored
    assert len(stored) <= 300
    assert_books_balance(sql)


def test_a_purchase_kept_waiting_in_line_gets_503_and_buys_nothing(gunicorn, users, make_event, sql):
    """The first buyer leads and waits PURCHASE_BATCH_WINDOW_MS for company; buyers who
    wait in line longer than PURCHASE_BATCH_WAIT_MS give up: 503 with Retry-After, and
    nothing bought for them. Never a hang, never a 500."""
    from tests.conftest import BATCHED
    from tests.support.concurrency import rush

    server = gunicorn(
        **{
            **BATCHED,
            "PURCHASE_BATCH_WINDOW_MS": "400",
            "PURCHASE_BATCH_WAIT_MS": "50",
            "WEB_CONCURRENCY": "1",
        }
    )
    event_id = make_event(capacity=100)["id"]
    buyers = users.many_headers(8)

    def buy(i, session):
        response = server.post(
            "/api/v1/orders", session=session, json={"event_id": event_id, "quantity": 1}, headers=buyers[i]
        )
        return response.status_code, response.headers.get("Retry-After"), response.json()

    answers = rush(len(buyers), buy)
    statuses = Counter(status for status, _, _ in answers)
    assert set(statuses) <= {201, 503} and statuses[503] >= 1, statuses
    for status, retry_after, body in answers:
        if status == 503:
            assert retry_after and body["type"] == "/problems/service-unavailable"
    assert sql.value("SELECT count(*) FROM orders WHERE event_id = %s", (event_id,)) == statuses[201]
    assert_books_balance(sql)
