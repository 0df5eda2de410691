"""The on-sale rush against gunicorn with several workers and real commits."""

import random
from collections import Counter

import requests

from tests.support.books import assert_books_balance
from tests.support.concurrency import rush
from tests.support.samples import WEBHOOK


def purchase(live_server, session, event_id, quantity, headers):
    return live_server.post(
        "/api/v1/orders", session=session, json={"event_id": event_id, "quantity": quantity}, headers=headers
    )


def books(sql, event_id):
    return sql.one(
        "SELECT e.capacity, e.remaining,"
        " (SELECT count(*) FROM tickets t WHERE t.event_id = e.id AND t.status <> 'CANCELLED') AS live,"
        " (SELECT count(*) FROM tickets t WHERE t.event_id = e.id) AS ever_sold"
        " FROM events e WHERE e.id = %s",
        (event_id,),
    )


def test_rush_sells_exactly_the_capacity(live_server, sql, users, make_event):
    event_id = make_event(capacity=50)["id"]
    buyers = users.many_headers(200)
    rng = random.Random(20261125)
    quantities = [rng.randint(1, 4) for _ in buyers]

    def buy(i, session):
        response = purchase(live_server, session, event_id, quantities[i], buyers[i])
        return response.status_code, response.json()

    results = rush(len(buyers), buy)
    statuses = Counter(status for status, _ in results)
    assert set(statuses) <= {201, 409}, statuses
    assert all(body["type"] == "/problems/sold-out" for status, body in results if status == 409)
    sold = sum(body["quantity"] for status, body in results if status == 201)
    assert sold == 50
    state = books(sql, event_id)
    assert state["remaining"] == 0
    assert state["live"] == state["ever_sold"] == 50
    assert_books_balance(sql)


def test_rush_with_rejections_resells_without_oversell(live_server, sql, users, make_event):
    event_id = make_event(capacity=50)["id"]
    buyers = users.many_headers(200)
    rng = random.Random(7)
    quantities = [rng.randint(1, 4) for _ in buyers]
    rejects = [rng.random() < 0.4 for _ in buyers]

    def buy_then_maybe_reject(i, session):
        response = purchase(live_server, session, event_id, quantities[i], buyers[i])
        codes = [response.status_code]
        if response.status_code == 201 and rejects[i]:
            settle = live_server.post(
                f"/api/v1/orders/{response.json()['id']}/status",
                session=session,
                json={"status": "REJECTED", "reason": "card declined"},
                headers=WEBHOOK,
            )
            codes.append(settle.status_code)
        return codes

    results = rush(len(buyers), buy_then_maybe_reject)
    purchases = Counter(codes[0] for codes in results)
    webhooks = Counter(codes[1] for codes in results if len(codes) > 1)
    assert set(purchases) <= {201, 409}, purchases
    assert set(webhooks) == {204}, webhooks
    assert_books_balance(sql)

    # Sell whatever the late rejections released, one ticket at a time, until sold out.
    session = requests.Session()
    while True:
        response = purchase(live_server, session, event_id, 1, buyers[0])
        if response.status_code == 409:
            assert response.json()["type"] == "/problems/sold-out"
            break
        assert response.status_code == 201
    state = books(sql, event_id)
    assert state["remaining"] == 0
    assert state["live"] == 50
    assert state["ever_sold"] > 50  # released tickets really were sold again
    assert_books_balance(sql)


def test_racing_webhooks_release_capacity_once(live_server, sql, users, make_event):
    event_id = make_event(capacity=40)["id"]
    buyer = users.many_headers(1)[0]
    session = requests.Session()
    orders = []
    for _ in range(10):
        response = purchase(live_server, session, event_id, 2, buyer)
        assert response.status_code == 201
        orders.append(response.json()["id"])
    assert books(sql, event_id)["remaining"] == 20

    # For each order: 4 duplicate REJECTED deliveries racing 4 PAID ones.
    deliveries = [(order_id, status) for order_id in orders for status in ["REJECTED", "PAID"] * 4]

    def deliver(i, session):
        order_id, status = deliveries[i]
        response = live_server.post(
            f"/api/v1/orders/{order_id}/status", session=session, json={"status": status}, headers=WEBHOOK
        )
        return order_id, status, response.status_code

    results = rush(len(deliveries), deliver)
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
    assert_books_balance(sql)
