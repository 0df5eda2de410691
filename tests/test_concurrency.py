"""The on-sale rush against gunicorn with several workers and real commits."""

import random
import threading
import uuid
from collections import Counter

import pytest
import requests

from tests.conftest import EVENT, INVARIANT, WEBHOOK_SECRET


def make_buyers(sql, users, count):
    rows = sql.all(
        "INSERT INTO users (name, email, password_hash)"
        " SELECT 'Buyer ' || n, 'rush-' || %s || '-' || n || '@example.com', 'x'"
        " FROM generate_series(1, %s) AS n RETURNING id",
        (uuid.uuid4().hex, count),
    )
    return [{"Authorization": f"Bearer {users.token(str(r['id']))}"} for r in rows]


def rush(workers, action):
    """Run action(i) in len(workers) threads released at the same instant by a barrier."""
    barrier = threading.Barrier(len(workers))
    results = [None] * len(workers)

    def run(i):
        with requests.Session() as session:
            barrier.wait()
            results[i] = action(i, session)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    return results


@pytest.fixture
def hot_event(live_server, admin):
    def create(capacity):
        response = requests.post(
            live_server("/api/v1/events"),
            json={**EVENT, "capacity": capacity},
            headers=admin["headers"],
            timeout=10,
        )
        assert response.status_code == 201
        return response.json()["id"]

    return create


def books(sql, event_id):
    return sql.one(
        "SELECT e.capacity, e.remaining,"
        " (SELECT count(*) FROM tickets t WHERE t.event_id = e.id AND t.status <> 'CANCELLED') AS live,"
        " (SELECT count(*) FROM tickets t WHERE t.event_id = e.id) AS ever_sold"
        " FROM events e WHERE e.id = %s",
        (event_id,),
    )


def test_rush_sells_exactly_the_capacity(live_server, sql, users, hot_event):
    event_id = hot_event(capacity=50)
    buyers = make_buyers(sql, users, 200)
    rng = random.Random(20261125)
    quantities = [rng.randint(1, 4) for _ in buyers]

    def buy(i, session):
        response = session.post(
            live_server("/api/v1/orders"),
            json={"event_id": event_id, "quantity": quantities[i]},
            headers=buyers[i],
            timeout=60,
        )
        return response.status_code, response.json()

    results = rush(buyers, buy)
    statuses = Counter(status for status, _ in results)
    assert set(statuses) <= {201, 409}, statuses
    assert all(body["type"] == "/problems/sold-out" for status, body in results if status == 409)
    sold = sum(body["quantity"] for status, body in results if status == 201)
    assert sold == 50
    state = books(sql, event_id)
    assert state["remaining"] == 0
    assert state["live"] == state["ever_sold"] == 50
    assert sql.all(INVARIANT) == []


def test_rush_with_rejections_resells_without_oversell(live_server, sql, users, hot_event):
    event_id = hot_event(capacity=50)
    buyers = make_buyers(sql, users, 200)
    rng = random.Random(7)
    quantities = [rng.randint(1, 4) for _ in buyers]
    rejects = [rng.random() < 0.4 for _ in buyers]

    def buy_then_maybe_reject(i, session):
        response = session.post(
            live_server("/api/v1/orders"),
            json={"event_id": event_id, "quantity": quantities[i]},
            headers=buyers[i],
            timeout=60,
        )
        codes = [response.status_code]
        if response.status_code == 201 and rejects[i]:
            settle = session.post(
                live_server(f"/api/v1/orders/{response.json()['id']}/status"),
                json={"status": "REJECTED", "reason": "card declined"},
                headers={"X-Webhook-Secret": WEBHOOK_SECRET},
                timeout=60,
            )
            codes.append(settle.status_code)
        return codes

    results = rush(buyers, buy_then_maybe_reject)
    purchases = Counter(codes[0] for codes in results)
    webhooks = Counter(codes[1] for codes in results if len(codes) > 1)
    assert set(purchases) <= {201, 409}, purchases
    assert set(webhooks) == {204}, webhooks
    assert sql.all(INVARIANT) == []

    # Sell whatever the late rejections released, one ticket at a time, until sold out.
    session = requests.Session()
    while True:
        response = session.post(
            live_server("/api/v1/orders"),
            json={"event_id": event_id, "quantity": 1},
            headers=buyers[0],
            timeout=10,
        )
        if response.status_code == 409:
            assert response.json()["type"] == "/problems/sold-out"
            break
        assert response.status_code == 201
    state = books(sql, event_id)
    assert state["remaining"] == 0
    assert state["live"] == 50
    assert state["ever_sold"] > 50  # released tickets really were sold again
    assert sql.all(INVARIANT) == []


def test_racing_webhooks_release_capacity_once(live_server, sql, users, hot_event):
    event_id = hot_event(capacity=40)
    buyer = make_buyers(sql, users, 1)[0]
    session = requests.Session()
    orders = []
    for _ in range(10):
        response = session.post(
            live_server("/api/v1/orders"),
            json={"event_id": event_id, "quantity": 2},
            headers=buyer,
            timeout=10,
        )
        assert response.status_code == 201
        orders.append(response.json()["id"])
    assert books(sql, event_id)["remaining"] == 20

    # For each order: 4 duplicate REJECTED deliveries racing 4 PAID ones.
    deliveries = [(order_id, status) for order_id in orders for status in ["REJECTED", "PAID"] * 4]

    def deliver(i, session):
        order_id, status = deliveries[i]
        response = session.post(
            live_server(f"/api/v1/orders/{order_id}/status"),
            json={"status": status},
            headers={"X-Webhook-Secret": WEBHOOK_SECRET},
            timeout=60,
        )
        return order_id, status, response.status_code

    results = rush(deliveries, deliver)
    final = {
        r["id"]: r["status"]
        for r in sql.all("SELECT id::text, status FROM orders WHERE event_id = %s", (event_id,))
    }
    for order_id, status, code in results:
        assert code == (204 if final[order_id] == status else 409), (order_id, status, code, final[order_id])
    rejected = sum(1 for s in final.values() if s == "REJECTED")
    state = books(sql, event_id)
    assert state["remaining"] == 20 + 2 * rejected
    assert state["live"] == 40 - state["remaining"]
    assert sql.all(INVARIANT) == []
