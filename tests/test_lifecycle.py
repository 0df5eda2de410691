"""Order lifecycle: holds that expire, late payments, cancellation, idempotent retries."""

import random
import threading
import time
import uuid
from datetime import datetime, timedelta
from functools import partial

import psycopg2
import psycopg2.errors
import pytest
import requests

from tests.support.books import assert_books_balance, remaining
from tests.support.concurrency import run_together, rush
from tests.support.samples import WEBHOOK
from tests.support.timeouts import WAIT_TIMEOUT, wait_until
from ticketing.orders.expiry import expire_due_orders, start_sweeper


def make_due(sql, *order_ids):
    sql.all(
        "UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = ANY(%s::uuid[])",
        (list(order_ids),),
    )


def order_row(sql, order_id):
    return sql.one("SELECT status, late_payment_at, reason FROM orders WHERE id = %s", (order_id,))


def ticket_statuses(sql, order_id):
    return {r["status"] for r in sql.all("SELECT status FROM tickets WHERE order_id = %s", (order_id,))}


def sweep(app):
    with app.app_context():
        return expire_due_orders()


def expire_now(app, sql, order_id):
    make_due(sql, order_id)
    sweep(app)


# ------------------------------------------------------------------ holds expire


def test_expires_at_is_shown_everywhere(client, make_event, buy, buyer, settings):
    order = buy(make_event()["id"]).json
    created = datetime.fromisoformat(order["created_at"])
    expires = datetime.fromisoformat(order["expires_at"])
    assert expires - created == timedelta(seconds=settings.order_hold_seconds)
    assert order["late_payment_at"] is None
    assert (
        client.get(f"/api/v1/orders/{order['id']}", headers=buyer["headers"]).json["expires_at"]
        == order["expires_at"]
    )
    assert client.get("/api/v1/orders", headers=buyer["headers"]).json[0]["expires_at"] == order["expires_at"]


def test_due_holds_expire_and_release_capacity_once(app, make_event, buy, sql):
    event = make_event(capacity=10)
    due = buy(event["id"], 3).json
    fresh = buy(event["id"], 2).json
    make_due(sql, due["id"])
    assert remaining(sql, event["id"]) == 5

    assert sweep(app) == 1
    assert order_row(sql, due["id"])["status"] == "EXPIRED"
    assert ticket_statuses(sql, due["id"]) == {"CANCELLED"}
    assert order_row(sql, fresh["id"])["status"] == "PENDING"
    assert remaining(sql, event["id"]) == 8
    assert sweep(app) == 0
    assert remaining(sql, event["id"]) == 8
    assert_books_balance(sql)


def test_expire_orders_command(app, make_event, buy, sql):
    event = make_event(capacity=5)
    order = buy(event["id"], 2).json
    make_due(sql, order["id"])
    result = app.test_cli_runner().invoke(args=["expire-orders"])
    assert result.exit_code == 0, result.output
    assert "Expired 1 orders" in result.output
    assert order_row(sql, order["id"])["status"] == "EXPIRED"
    assert remaining(sql, event["id"]) == 5


def test_concurrent_sweeps_release_each_hold_once(make_app, make_event, buy, users, sql):
    event = make_event(capacity=600, max_per_order=3)
    buyer = users.create()
    ids = [buy(event["id"], 3, user=buyer).json["id"] for _ in range(150)]
    make_due(sql, *ids)
    apps = [make_app() for _ in range(4)]  # four "instances", each with its own pool
    counts = run_together([partial(sweep, instance) for instance in apps])
    assert sum(counts) == 150
    assert remaining(sql, event["id"]) == 600
    assert_books_balance(sql)


def event_locked(probe, event_id) -> bool:
    """Whether another session holds a lock on the event's row (probe: autocommit)."""
    try:
        probe.cursor().execute("SELECT 1 FROM events WHERE id = %s FOR NO KEY UPDATE NOWAIT", (event_id,))
    except psycopg2.errors.LockNotAvailable:
        return True
    return False


def test_a_sweep_locks_its_events_in_id_order_before_anything_else(
    app, make_event, buy, sql, owner_database_url
):
    """Two sweeps releasing holds of the same events must take the events' locks in one
    order, or they deadlock (and the hot row waits deadlock_timeout each time). Here the
    seventh of twelve events (by id) is held by another transaction: a sweep over holds
    of all twelve then holds exactly the six before it, has changed no order yet (the
    holdings trigger comes after the event locks), and waits. (The statement before this
    test happened to update in id order when the planner sorted for its GROUP BY; now the
    order is the statement's own, whatever the plan.)"""
    events = sorted(make_event(capacity=10)["id"] for _ in range(12))  # uuid order = their text order
    make_due(sql, *[buy(event_id, 1).json["id"] for event_id in events])
    blocker = psycopg2.connect(owner_database_url)
    probe = psycopg2.connect(owner_database_url)
    probe.autocommit = True
    try:
        blocker.cursor().execute("SELECT 1 FROM events WHERE id = %s FOR UPDATE", (events[6],))
        swept = {}
        thread = threading.Thread(target=lambda: swept.update(n=sweep(app)))
        thread.start()
        wait_until(
            lambda: sql.value(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
                ("%SKIP LOCKED%",),
            ),
            "the sweep did not wait for the blocked event",
        )
        assert [event_locked(probe, e) for e in events] == [True] * 7 + [False] * 5
        assert sql.value("SELECT count(*) FROM orders WHERE status = 'EXPIRED'") == 0
        blocker.rollback()
        thread.join(WAIT_TIMEOUT)
        assert swept == {"n": 12}
    finally:
        blocker.close()
        probe.close()
    assert_books_balance(sql)


def test_sweeps_over_the_same_events_in_opposite_orders_never_deadlock(make_app, make_event, users, sql):
    """Two instances sweep, over and over, holds of the same events created in opposite
    orders, with real commits: no deadlock error, every hold released once."""
    events = [make_event(capacity=400, max_per_order=1)["id"] for _ in range(4)]
    apps = [make_app(), make_app()]
    buyer = users.create()
    from ticketing.orders import repository

    def hold(app, event_id):
        with app.app_context():
            order = repository.purchase(
                user_id=buyer["id"], token_version=0, event_id=event_id, quantity=1, hold_seconds=0
            )
            assert order is not None

    for round_ in range(30):
        for event_id in events if round_ % 2 else reversed(events):
            hold(apps[0], event_id)
        results = run_together([partial(sweep, instance) for instance in apps])
        assert sum(results) == len(events)
    for event_id in events:
        assert remaining(sql, event_id) == 400
    assert_books_balance(sql)


def test_background_sweeper_expires_holds_by_itself(make_app, make_event, buyer, sql):
    app = make_app(order_hold_seconds=1, expiry_sweep_seconds=0.2)
    event = make_event(capacity=4)
    response = app.test_client().post(
        "/api/v1/orders", json={"event_id": event["id"], "quantity": 4}, headers=buyer["headers"]
    )
    assert response.status_code == 201
    stop = threading.Event()
    sweeper = start_sweeper(app, stop)
    try:
        wait_until(
            lambda: order_row(sql, response.json["id"])["status"] != "PENDING",
            "the hold did not expire by itself",
        )
    finally:
        stop.set()
        sweeper.join(WAIT_TIMEOUT)
    assert order_row(sql, response.json["id"])["status"] == "EXPIRED"
    assert remaining(sql, event["id"]) == 4


def test_gunicorn_workers_expire_holds_by_themselves(gunicorn, make_event, buyer):
    server = gunicorn(ORDER_HOLD_SECONDS="1", EXPIRY_SWEEP_MS="200", WEB_CONCURRENCY="2")
    event = make_event(capacity=2)
    response = server.post(
        "/api/v1/orders", json={"event_id": event["id"], "quantity": 2}, headers=buyer["headers"]
    )
    assert response.status_code == 201
    order_id = response.json()["id"]
    wait_until(
        lambda: (
            server.get(f"/api/v1/orders/{order_id}", headers=buyer["headers"]).json()["status"] == "EXPIRED"
        ),
        "the hold did not expire under gunicorn",
    )
    assert server.get(f"/api/v1/events/{event['id']}").json()["remaining"] == 2


# ------------------------------------------------------------------ late payments


def test_late_payment_is_honoured_when_capacity_remains(app, client, make_event, buy, sql, settle):
    event = make_event(capacity=5)
    order = buy(event["id"], 2).json
    expire_now(app, sql, order["id"])
    assert remaining(sql, event["id"]) == 5

    assert settle(order["id"], "PAID").status_code == 204
    row = order_row(sql, order["id"])
    assert row["status"] == "PAID" and row["late_payment_at"] is not None
    assert ticket_statuses(sql, order["id"]) == {"VALID"}
    assert remaining(sql, event["id"]) == 3
    assert settle(order["id"], "PAID").status_code == 204  # provider retry
    assert remaining(sql, event["id"]) == 3
    assert_books_balance(sql)


def test_late_payment_without_capacity_is_recorded_and_409(app, client, make_event, buy, users, sql, settle):
    event = make_event(capacity=2)
    order = buy(event["id"], 2).json
    expire_now(app, sql, order["id"])
    assert buy(event["id"], 2, user=users.create()).status_code == 201  # someone else took them

    response = settle(order["id"], "PAID")
    assert response.status_code == 409
    assert response.json["type"] == "/problems/payment-after-expiry"
    row = order_row(sql, order["id"])
    assert row["status"] == "EXPIRED" and row["late_payment_at"] is not None
    assert ticket_statuses(sql, order["id"]) == {"CANCELLED"}
    assert remaining(sql, event["id"]) == 0
    assert_books_balance(sql)


def test_rejected_after_expiry_changes_nothing(app, client, make_event, buy, sql, settle):
    event = make_event(capacity=5)
    order = buy(event["id"], 2).json
    expire_now(app, sql, order["id"])
    assert settle(order["id"], "REJECTED").status_code == 204
    assert order_row(sql, order["id"]) == {"status": "EXPIRED", "late_payment_at": None, "reason": None}
    assert remaining(sql, event["id"]) == 5


def test_expiry_sweep_racing_a_paid_webhook(make_app, make_event, buy, settle, users, sql):
    """Whoever gets each order first, it ends PAID exactly once with consistent capacity."""
    event = make_event(capacity=200, max_per_order=2)
    buyer = users.create()
    ids = [buy(event["id"], 2, user=buyer).json["id"] for _ in range(40)]
    make_due(sql, *ids)
    sweeper_app, webhook_client = make_app(), make_app().test_client()

    def run_webhooks():
        return [settle(order_id, "PAID", through=webhook_client).status_code for order_id in ids]

    _, codes = run_together([lambda: sweep(sweeper_app), run_webhooks])
    assert codes == [204] * len(ids)
    rows = sql.all("SELECT status, late_payment_at FROM orders WHERE id = ANY(%s::uuid[])", (ids,))
    assert {r["status"] for r in rows} == {"PAID"}
    assert (
        sql.value(
            "SELECT count(*) FROM tickets WHERE order_id = ANY(%s::uuid[]) AND status = 'VALID'", (ids,)
        )
        == 80
    )
    assert remaining(sql, event["id"]) == 120
    assert_books_balance(sql)


# ------------------------------------------------------------------ cancellation


def test_owner_cancels_a_pending_order(client, make_event, buy, buyer, sql, settle):
    event = make_event(capacity=5)
    order = buy(event["id"], 3).json
    response = client.post(f"/api/v1/orders/{order['id']}/cancel", headers=buyer["headers"])
    assert response.status_code == 200
    assert response.json["status"] == "CANCELLED"
    assert {t["status"] for t in response.json["tickets"]} == {"CANCELLED"}
    assert remaining(sql, event["id"]) == 5
    again = client.post(f"/api/v1/orders/{order['id']}/cancel", headers=buyer["headers"])
    assert again.status_code == 409 and again.json["type"] == "/problems/invalid-transition"
    assert remaining(sql, event["id"]) == 5
    assert settle(order["id"], "REJECTED").status_code == 204
    paid = settle(order["id"], "PAID")
    assert paid.status_code == 409 and paid.json["type"] == "/problems/invalid-transition"
    assert_books_balance(sql)


@pytest.mark.parametrize("final", ["PAID", "REJECTED", "EXPIRED"])
def test_only_pending_orders_can_be_cancelled(app, client, make_event, buy, buyer, sql, final, settle):
    event = make_event(capacity=5)
    order = buy(event["id"], 1).json
    if final == "EXPIRED":
        expire_now(app, sql, order["id"])
    else:
        settle(order["id"], final)
    before = remaining(sql, event["id"])
    response = client.post(f"/api/v1/orders/{order['id']}/cancel", headers=buyer["headers"])
    assert response.status_code == 409
    assert response.json["type"] == "/problems/invalid-transition"
    assert order_row(sql, order["id"])["status"] == final
    assert remaining(sql, event["id"]) == before


def test_cancelling_someone_elses_order_is_404(client, make_event, buy, users, admin, sql):
    order = buy(make_event()["id"], 1).json
    for stranger in (users.create(), admin):
        response = client.post(f"/api/v1/orders/{order['id']}/cancel", headers=stranger["headers"])
        assert response.status_code == 404
    assert client.post(f"/api/v1/orders/{uuid.uuid4()}/cancel", headers=admin["headers"]).status_code == 404
    assert client.post(f"/api/v1/orders/{order['id']}/cancel").status_code == 401
    assert order_row(sql, order["id"])["status"] == "PENDING"


# ------------------------------------------------------------------ idempotent purchases


def test_retry_with_a_key_replays_and_buys_nothing(make_event, buy, sql):
    event = make_event(capacity=10)
    first = buy(event["id"], 2, key="retry-1")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = buy(event["id"], 2, key="retry-1")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert again.headers["Location"] == first.headers["Location"]
    assert sql.value("SELECT count(*) FROM orders") == 1
    assert remaining(sql, event["id"]) == 8


def test_same_key_different_body_is_422(make_event, buy, sql):
    event = make_event(capacity=10)
    assert buy(event["id"], 2, key="k").status_code == 201
    response = buy(event["id"], 3, key="k")
    assert response.status_code == 422
    assert response.json["type"] == "/problems/idempotency-key-reused"
    assert sql.value("SELECT count(*) FROM orders") == 1


def test_keys_are_per_user(make_event, buy, users, sql):
    event = make_event(capacity=10)
    assert buy(event["id"], 1, key="shared").status_code == 201
    other = buy(event["id"], 1, key="shared", user=users.create())
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
    assert sql.value("SELECT count(*) FROM orders") == 2


def test_errors_are_replayed_too(client, make_event, buy, users, sql, settle):
    event = make_event(capacity=2)
    holder = buy(event["id"], 2, user=users.create()).json
    sold_out = buy(event["id"], 1, key="late")
    assert sold_out.status_code == 409
    settle(holder["id"], "REJECTED")  # tickets are back on sale...
    again = buy(event["id"], 1, key="late")
    assert again.status_code == 409  # ...but the same request gets the same answer
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Content-Type"] == "application/problem+json"
    assert again.json == sold_out.json
    assert buy(event["id"], 1, key="fresh").status_code == 201


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "tab\there", "é"])
def test_malformed_keys_are_422(client, make_event, buyer, key):
    event = make_event()
    headers = {**buyer["headers"], "Idempotency-Key": key}
    response = client.post("/api/v1/orders", json={"event_id": event["id"], "quantity": 1}, headers=headers)
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json["errors"]


def test_concurrent_retries_with_one_key_buy_once(purchase_server, make_event, buyer, sql):
    event = make_event(capacity=50)

    def retry(i, session):
        response = purchase_server.post(
            "/api/v1/orders",
            session=session,
            json={"event_id": event["id"], "quantity": 2},
            headers={**buyer["headers"], "Idempotency-Key": "one-click"},
        )
        return response.status_code, response.headers.get("Idempotent-Replayed"), response.json()

    results = rush(20, retry)
    assert [status for status, _, _ in results] == [201] * 20
    assert sum(1 for _, replayed, _ in results if replayed is None) == 1
    assert len({body["id"] for _, _, body in results}) == 1
    assert sql.value("SELECT count(*) FROM orders") == 1
    assert remaining(sql, event["id"]) == 48


# ------------------------------------------------------------------ everything at once


def test_random_mixed_workload_keeps_the_books_balanced(purchase_server, make_app, make_event, users, sql):
    rng = random.Random(4242)
    events = [make_event(capacity=rng.randint(5, 30), max_per_order=4)["id"] for _ in range(3)]
    people = [users.create() for _ in range(8)]
    sweeper = make_app()
    stop = threading.Event()
    failures = []

    def sweep_continuously():
        while not stop.is_set():
            sweep(sweeper)
            time.sleep(0.01)

    def actor(seed):
        r = random.Random(seed)
        mine = []
        with requests.Session() as s:
            for _ in range(40):
                person = r.choice(people)
                action = r.random()
                if action < 0.5 or not mine:
                    headers = dict(person["headers"])
                    if r.random() < 0.3:
                        headers["Idempotency-Key"] = f"k{r.randint(0, 5)}"
                    resp = purchase_server.post(
                        "/api/v1/orders",
                        session=s,
                        headers=headers,
                        json={"event_id": r.choice(events), "quantity": r.randint(1, 4)},
                    )
                    if resp.status_code == 201:
                        mine.append((resp.json()["id"], person))
                    elif resp.status_code not in (409, 422):
                        failures.append(("buy", resp.status_code, resp.text))
                    continue
                order_id, owner = r.choice(mine)
                if action < 0.65:
                    resp = purchase_server.post(
                        f"/api/v1/orders/{order_id}/cancel", session=s, headers=owner["headers"]
                    )
                    ok = {200, 409}
                elif action < 0.9:
                    resp = purchase_server.post(
                        f"/api/v1/orders/{order_id}/status",
                        session=s,
                        headers=WEBHOOK,
                        json={"status": r.choice(["PAID", "REJECTED"])},
                    )
                    ok = {204, 409}
                else:
                    due_orders.append(order_id)  # the main thread makes it due; the sweeper expires it
                    continue
                if resp.status_code not in ok:
                    failures.append((action, resp.status_code, resp.text))

    due_orders = []
    sweeper_thread = threading.Thread(target=sweep_continuously)
    sweeper_thread.start()
    actors = [threading.Thread(target=actor, args=(seed,)) for seed in range(6)]
    for t in actors:
        t.start()

    def actors_done():
        if due_orders:
            batch, due_orders[:] = list(due_orders), []
            make_due(sql, *batch)
        return not any(t.is_alive() for t in actors)

    wait_until(actors_done, "the actors did not finish", interval=0.02)
    stop.set()
    sweeper_thread.join(WAIT_TIMEOUT)
    assert failures == []
    assert sql.value("SELECT count(*) FROM orders") > 20
    statuses = {r["status"] for r in sql.all("SELECT DISTINCT status FROM orders")}
    assert {"PENDING", "PAID", "CANCELLED"} <= statuses
    assert_books_balance(sql)
