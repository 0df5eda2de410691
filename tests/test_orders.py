import json
import uuid

import pytest

from tests.support.books import assert_books_balance, remaining
from tests.support.samples import WEBHOOK


def test_purchase_creates_a_pending_order_with_tickets(client, make_event, buy, buyer, sql):
    event = make_event(capacity=10, price="25.50")
    response = buy(event["id"], 3)
    assert response.status_code == 201
    order = response.json
    assert response.headers["Location"].endswith(f"/api/v1/orders/{order['id']}")
    assert order["status"] == "PENDING"
    assert order["quantity"] == 3 and order["unit_price"] == "25.50" and order["total_amount"] == "76.50"
    assert order["event_id"] == event["id"] and order["user_id"] == buyer["id"]
    assert order["event"] == {"id": event["id"], "name": event["name"], "date": event["date"]}
    assert len(order["tickets"]) == 3
    assert {t["status"] for t in order["tickets"]} == {"VALID"}
    assert {t["price"] for t in order["tickets"]} == {"25.50"}
    assert remaining(sql, event["id"]) == 7
    assert sql.value("SELECT count(*) FROM tickets WHERE order_id = %s", (order["id"],)) == 3
    assert client.get(f"/api/v1/events/{event['id']}").json["remaining"] == 7
    assert_books_balance(sql)


def test_sold_out_says_how_many_remain(make_event, buy, sql):
    event = make_event(capacity=3)
    assert buy(event["id"], 2).status_code == 201
    response = buy(event["id"], 2)
    assert response.status_code == 409
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json["type"] == "/problems/sold-out"
    assert response.json["remaining"] == 1
    assert "Only 1 tickets left" in response.json["detail"]
    assert buy(event["id"], 1).status_code == 201
    last = buy(event["id"], 1)
    assert last.status_code == 409 and last.json["remaining"] == 0
    assert remaining(sql, event["id"]) == 0
    assert_books_balance(sql)


def test_started_event_is_closed(make_event, buy, sql):
    event = make_event()
    sql.all("UPDATE events SET date = now() - interval '1 minute' WHERE id = %s", (event["id"],))
    response = buy(event["id"], 1)
    assert response.status_code == 409
    assert response.json["type"] == "/problems/event-closed"
    assert remaining(sql, event["id"]) == event["capacity"]


def test_unknown_event_is_404(buy):
    response = buy(str(uuid.uuid4()), 1)
    assert response.status_code == 404
    assert response.json["type"] == "/problems/not-found"


def test_deleted_event_is_404(make_event, buy, sql):
    event = make_event()
    sql.all("UPDATE events SET deleted_at = now() WHERE id = %s", (event["id"],))
    assert buy(event["id"], 1).status_code == 404


def test_quantity_above_the_events_cap_is_422(make_event, buy, sql):
    event = make_event(max_per_order=4)
    response = buy(event["id"], 5)
    assert response.status_code == 422
    assert "quantity" in response.json["errors"]
    assert remaining(sql, event["id"]) == event["capacity"]
    assert buy(event["id"], 4).status_code == 201


@pytest.mark.parametrize(
    "body, field",
    [
        ({"quantity": 1}, "event_id"),
        ({"event_id": "not-a-uuid", "quantity": 1}, "event_id"),
        ({"event_id": 12, "quantity": 1}, "event_id"),
        ({"event_id": "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"}, "quantity"),
        ({"event_id": "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f", "quantity": 0}, "quantity"),
        ({"event_id": "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f", "quantity": -1}, "quantity"),
        ({"event_id": "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f", "quantity": 1.5}, "quantity"),
        ({"event_id": "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f", "quantity": "2"}, "quantity"),
        ({"event_id": "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f", "quantity": 1, "status": "PAID"}, "status"),
        ({"event_id": "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f", "quantity": 1, "unit_price": 0}, "unit_price"),
    ],
)
def test_invalid_purchase_bodies_are_422(client, buyer, body, field):
    response = client.post("/api/v1/orders", json=body, headers=buyer["headers"])
    assert response.status_code == 422
    assert field in response.json["errors"]


def test_purchase_needs_a_token(client, make_event):
    event = make_event()
    response = client.post("/api/v1/orders", json={"event_id": event["id"], "quantity": 1})
    assert response.status_code == 401


def test_token_of_a_missing_account_is_401_not_500(client, make_event, users):
    event = make_event()
    ghost = {"Authorization": f"Bearer {users.token(str(uuid.uuid4()))}"}
    response = client.post("/api/v1/orders", json={"event_id": event["id"], "quantity": 1}, headers=ghost)
    assert response.status_code == 401


def test_list_my_orders_newest_first(client, make_event, buy, buyer, users):
    first_event = make_event(name="First")
    second_event = make_event(name="Second")
    first = buy(first_event["id"], 1).json
    second = buy(second_event["id"], 2).json
    other = users.create()
    buy(first_event["id"], 1, user=other)

    response = client.get("/api/v1/orders", headers=buyer["headers"])
    assert response.status_code == 200
    assert [o["id"] for o in response.json] == [second["id"], first["id"]]
    assert response.json[0]["event"]["name"] == "Second"
    assert len(response.json[0]["tickets"]) == 2
    assert json.loads(response.headers["X-Pagination"])["total"] == 2

    page = client.get("/api/v1/orders?page=2&page_size=1", headers=buyer["headers"])
    assert [o["id"] for o in page.json] == [first["id"]]


def test_get_order_is_private(client, make_event, buy, buyer, users, admin):
    event = make_event()
    order = buy(event["id"], 2).json
    owner_view = client.get(f"/api/v1/orders/{order['id']}", headers=buyer["headers"])
    assert owner_view.status_code == 200
    assert owner_view.json == order
    stranger = users.create()
    assert client.get(f"/api/v1/orders/{order['id']}", headers=stranger["headers"]).status_code == 404
    assert client.get(f"/api/v1/orders/{order['id']}", headers=admin["headers"]).status_code == 200
    assert client.get(f"/api/v1/orders/{uuid.uuid4()}", headers=admin["headers"]).status_code == 404
    assert client.get("/api/v1/orders/not-a-uuid", headers=admin["headers"]).status_code == 404


# ------------------------------------------------------------------ the payment webhook


def test_paid(make_event, buy, settle, sql, client, buyer):
    event = make_event(capacity=5)
    order = buy(event["id"], 2).json
    response = settle(order["id"], "PAID")
    assert response.status_code == 204 and response.data == b""
    stored = sql.one("SELECT status, reason FROM orders WHERE id = %s", (order["id"],))
    assert stored == {"status": "PAID", "reason": None}
    assert remaining(sql, event["id"]) == 3
    assert client.get(f"/api/v1/orders/{order['id']}", headers=buyer["headers"]).json["status"] == "PAID"
    assert_books_balance(sql)


def test_rejected_returns_capacity_and_cancels_tickets(make_event, buy, settle, sql):
    event = make_event(capacity=5)
    order = buy(event["id"], 2).json
    assert remaining(sql, event["id"]) == 3
    assert settle(order["id"], "REJECTED", reason="card declined").status_code == 204
    stored = sql.one("SELECT status, reason FROM orders WHERE id = %s", (order["id"],))
    assert stored == {"status": "REJECTED", "reason": "card declined"}
    statuses = sql.all("SELECT status FROM tickets WHERE order_id = %s", (order["id"],))
    assert [t["status"] for t in statuses] == ["CANCELLED", "CANCELLED"]
    assert remaining(sql, event["id"]) == 5
    assert_books_balance(sql)


def test_repeated_status_is_a_harmless_204(make_event, buy, settle, sql):
    event = make_event(capacity=5)
    rejected = buy(event["id"], 2).json
    paid = buy(event["id"], 1).json
    for _ in range(3):
        assert settle(rejected["id"], "REJECTED").status_code == 204
        assert settle(paid["id"], "PAID").status_code == 204
    assert remaining(sql, event["id"]) == 4  # released once, not three times
    assert_books_balance(sql)


def test_paid_and_rejected_are_final(make_event, buy, settle, sql):
    event = make_event(capacity=5)
    paid = buy(event["id"], 1).json
    rejected = buy(event["id"], 1).json
    settle(paid["id"], "PAID")
    settle(rejected["id"], "REJECTED")
    for order_id, status in ((paid["id"], "REJECTED"), (rejected["id"], "PAID")):
        response = settle(order_id, status)
        assert response.status_code == 409
        assert response.json["type"] == "/problems/invalid-transition"
    assert remaining(sql, event["id"]) == 4
    assert_books_balance(sql)


def test_webhook_unknown_order_is_404(settle):
    assert settle(str(uuid.uuid4()), "PAID").status_code == 404
    assert settle("not-a-uuid", "PAID").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"status": "CANCELLED"},
        {"status": "paid"},
        {"status": "PAID", "reason": 5},
        {"status": "PAID", "reason": "x" * 501},
        {"status": "PAID", "bogus": 1},
        {"status": "PAID", "amount": -1},
        {"status": "PAID", "amount": "1.001"},
        {"status": "PAID", "currency": "brl"},
        {"status": "PAID", "currency": "REAL"},
        {"status": "PAID", "payment_id": ""},
        {"status": "PAID", "payment_id": "x" * 256},
    ],
)
def test_webhook_bad_body_is_422(client, make_event, buy, body):
    order = buy(make_event()["id"], 1).json
    response = client.post(f"/api/v1/orders/{order['id']}/status", json=body, headers=WEBHOOK)
    assert response.status_code == 422


@pytest.mark.parametrize(
    "headers, kind",
    [
        ({}, "invalid-webhook-signature"),
        ({"X-Webhook-Secret": "wrong"}, "invalid-webhook-secret"),
        ({"X-Webhook-Secret": ""}, "invalid-webhook-secret"),
    ],
)
def test_webhook_needs_the_secret(make_event, buy, settle, sql, headers, kind):
    order = buy(make_event()["id"], 1).json
    response = settle(order["id"], "REJECTED", headers=headers)
    assert response.status_code == 401
    assert response.json["type"] == f"/problems/{kind}"
    assert sql.value("SELECT status FROM orders WHERE id = %s", (order["id"],)) == "PENDING"


def test_webhook_secret_is_checked_before_the_body(client):
    response = client.post(f"/api/v1/orders/{uuid.uuid4()}/status", json={"bogus": 1})
    assert response.status_code == 401


def test_webhook_without_configured_secret_is_503(make_app, make_event, buy):
    order = buy(make_event()["id"], 1).json
    app = make_app(app_env="production", webhook_secret=None)
    response = app.test_client().post(
        f"/api/v1/orders/{order['id']}/status", json={"status": "PAID"}, headers=WEBHOOK
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"]
