"""The on-sale rush against gunicorn with several workers and real commits."""

import random
from collections import Counter

import requests

from tests.support.books import assert_books_balance
from tests.support.concurrency import rush
from tests.support.paths import both_purchase_paths  # noqa: F401 (live_server: both paths)
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


def typed_purchase(live_server, session, event_id, type_id, quantity, headers):
    return live_server.post(
        "/api/v1/orders",
        session=session,
        json={"event_id": event_id, "ticket_type_id": type_id, "quantity": quantity},
        headers=headers,
    )


def type_books(sql, event_id):
    return sql.all(
        "SELECT tt.id, tt.capacity, tt.remaining,"
        " (SELECT count(*) FROM tickets t WHERE t.ticket_type_id = tt.id AND t.status <> 'CANCELLED') AS live"
        " FROM ticket_types tt WHERE tt.event_id = %s ORDER BY tt.position",
        (event_id,),
    )


THREE_TYPES = [
    {"name": "General", "price": "100.00", "capacity": 30},
    {"name": "VIP", "price": "250.00", "capacity": 25},
    {"name": "Student", "price": "50.00", "capacity": 20},
]


def test_rush_across_three_types_under_a_shared_cap(live_server, sql, users, make_event):
    # type capacities add up to 75, the venue holds 60: neither any type nor the event may oversell
    event = make_event(capacity=60, price="100.00", ticket_types=THREE_TYPES)
    type_ids = [t["id"] for t in event["ticket_types"]]
    buyers = users.many_headers(200)
    rng = random.Random(20261207)
    picks = [(rng.choice(type_ids), rng.randint(1, 4)) for _ in buyers]

    def buy(i, session):
        type_id, quantity = picks[i]
        response = typed_purchase(live_server, session, event["id"], type_id, quantity, buyers[i])
        return response.status_code, response.json()

    results = rush(len(buyers), buy)
    statuses = Counter(status for status, _ in results)
    assert set(statuses) <= {201, 409}, statuses
    assert all(body["type"] == "/problems/sold-out" for status, body in results if status == 409)
    assert_books_balance(sql)  # per event and per type

    # Then one ticket at a time, type after type, until the event itself is sold out.
    session = requests.Session()
    for buyer in buyers[:100]:
        answers = [typed_purchase(live_server, session, event["id"], t, 1, buyer) for t in type_ids]
        assert {a.status_code for a in answers} <= {201, 409}
        if all(a.status_code == 409 for a in answers):
            break
    state = books(sql, event["id"])
    assert state["remaining"] == 0 and state["live"] == state["ever_sold"] == 60
    per_type = type_books(sql, event["id"])
    assert all(
        0 <= t["live"] <= t["capacity"] and t["live"] == t["capacity"] - t["remaining"] for t in per_type
    )
    assert sum(t["live"] for t in per_type) == 60
    assert_books_balance(sql)


def test_purchases_cancels_rejections_and_type_edits_never_deadlock(live_server, sql, users, make_event):
    # Every statement that locks an event and a type locks the event first: mixing all of
    # them across types of one event must never deadlock (a deadlock would be a 500).
    event = make_event(capacity=500, price="100.00", ticket_types=THREE_TYPES)
    type_ids = [t["id"] for t in event["ticket_types"]]
    admin = users.create(role="admin", name="Admin")["headers"]
    buyers = users.many_headers(150)
    rng = random.Random(11)
    plans = [
        (rng.choice(type_ids), rng.randint(1, 3), rng.choice(["cancel", "reject", "keep", "edit"]))
        for _ in buyers
    ]

    def act(i, session):
        type_id, quantity, then = plans[i]
        if then == "edit":  # the admin resizes a type: event row, then type row
            response = live_server.request(
                "PATCH",
                f"/api/v1/events/{event['id']}/ticket-types/{type_id}",
                session=session,
                json={"capacity": 30 + i % 30},
                headers=admin,
            )
            return [response.status_code]
        response = typed_purchase(live_server, session, event["id"], type_id, quantity, buyers[i])
        codes = [response.status_code]
        if response.status_code == 201 and then == "cancel":
            codes.append(
                live_server.post(
                    f"/api/v1/orders/{response.json()['id']}/cancel", session=session, headers=buyers[i]
                ).status_code
            )
        elif response.status_code == 201 and then == "reject":
            codes.append(
                live_server.post(
                    f"/api/v1/orders/{response.json()['id']}/status",
                    session=session,
                    json={"status": "REJECTED"},
                    headers=WEBHOOK,
                ).status_code
            )
        return codes

    results = rush(len(buyers), act)
    assert all(set(codes) <= {200, 201, 204, 409} for codes in results), Counter(map(tuple, results))
    assert_books_balance(sql)
