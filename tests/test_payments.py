"""Amounts, currencies and payment ids on the payment webhook; the payments ledger; refunds."""

import uuid

import pytest

from tests.support.books import assert_books_balance, remaining
from tests.support.concurrency import run_together
from tests.support.samples import EVENT
from tests.support.webhooks import post_signed
from ticketing.orders.expiry import expire_due_orders


@pytest.fixture
def pay(client):
    """The provider's signed webhook for an order: pay(order_id, status="PAID", **fields)."""

    def deliver(order_id, status="PAID", **fields):
        return post_signed(client, order_id, {"status": status, **fields})

    return deliver


def order_row(sql, order_id):
    return sql.one("SELECT status, reason, late_payment_at FROM orders WHERE id = %s", (order_id,))


def payments_of(sql, order_id):
    return sql.all(
        "SELECT payment_id, amount::text, currency, state FROM payments WHERE order_id = %s ORDER BY received_at",
        (order_id,),
    )


def deliveries_of(sql, order_id):
    return sql.all(
        "SELECT payment_id, status, amount::text, currency, response_status, response_body->>'type' AS type"
        " FROM payment_deliveries WHERE order_id = %s ORDER BY received_at",
        (order_id,),
    )


# ------------------------------------------------------------------ currency


def test_events_and_orders_carry_a_currency(make_event, buy, client, admin):
    event = make_event(currency="USD", price="12.50")
    assert event["currency"] == "USD"
    order = buy(event["id"], 2).json
    assert order["currency"] == "USD" and order["total_amount"] == "25.00"
    assert client.get(f"/api/v1/orders/{order['id']}", headers=admin["headers"]).json["currency"] == "USD"
    # A later currency change applies to new orders only.
    changed = client.patch(
        f"/api/v1/events/{event['id']}", json={"currency": "EUR"}, headers=admin["headers"]
    )
    assert changed.status_code == 200 and changed.json["currency"] == "EUR"
    assert client.get(f"/api/v1/orders/{order['id']}", headers=admin["headers"]).json["currency"] == "USD"
    assert buy(event["id"], 1).json["currency"] == "EUR"


def test_default_currency_is_a_setting(make_app, admin):
    app = make_app(default_currency="EUR")
    response = app.test_client().post("/api/v1/events", json=EVENT, headers=admin["headers"])
    assert response.status_code == 201 and response.json["currency"] == "EUR"


@pytest.mark.parametrize("currency", ["usd", "US", "USDX", "", 840, None])
def test_currency_must_be_iso_4217_shaped(client, admin, currency):
    response = client.post("/api/v1/events", json={**EVENT, "currency": currency}, headers=admin["headers"])
    assert response.status_code == 422
    assert "currency" in response.json["errors"]


# ------------------------------------------------------------------ amounts


def test_matching_amount_and_currency_pay_and_capture(make_event, buy, pay, sql):
    order = buy(make_event(price="200.00")["id"], 2).json
    response = pay(order["id"], payment_id="pay_1", amount="400.00", currency="BRL")
    assert response.status_code == 204
    assert order_row(sql, order["id"])["status"] == "PAID"
    assert payments_of(sql, order["id"]) == [
        {"payment_id": "pay_1", "amount": "400.00", "currency": "BRL", "state": "captured"}
    ]
    assert deliveries_of(sql, order["id"])[0]["response_status"] == 204


def test_amount_as_a_json_number(make_event, buy, pay, sql):
    order = buy(make_event(price="200.00")["id"], 2).json
    assert pay(order["id"], amount=400).status_code == 204
    assert order_row(sql, order["id"])["status"] == "PAID"


@pytest.mark.parametrize(
    "fields, kind",
    [
        ({"amount": "1.00"}, "amount"),
        ({"amount": "400.01"}, "amount"),
        ({"currency": "USD"}, "currency"),
        ({"amount": "400.00", "currency": "USD"}, "currency"),
    ],
)
def test_amount_or_currency_mismatch_is_409_and_changes_nothing(make_event, buy, pay, sql, fields, kind):
    event = make_event(price="200.00", capacity=5)
    order = buy(event["id"], 2).json
    response = pay(order["id"], payment_id="pay_short", **fields)
    assert response.status_code == 409, kind
    assert response.json["type"] == "/problems/amount-mismatch"
    assert response.json["expected_amount"] == "400.00" and response.json["expected_currency"] == "BRL"
    assert order_row(sql, order["id"])["status"] == "PENDING"
    assert remaining(sql, event["id"]) == 3
    # The delivery is recorded, and the money it announced is not forgotten.
    [delivery] = deliveries_of(sql, order["id"])
    assert delivery["response_status"] == 409 and delivery["type"] == "/problems/amount-mismatch"
    [payment] = payments_of(sql, order["id"])
    assert payment["state"] == "refund_due" and payment["payment_id"] == "pay_short"
    # A correct payment (a new payment id) still pays the order.
    assert pay(order["id"], payment_id="pay_full", amount="400.00").status_code == 204
    assert order_row(sql, order["id"])["status"] == "PAID"
    assert_books_balance(sql)


def test_a_rejection_with_a_mismatched_amount_is_409_too(make_event, buy, pay, sql):
    order = buy(make_event(price="200.00")["id"], 1).json
    response = pay(order["id"], "REJECTED", amount="5.00")
    assert response.status_code == 409 and response.json["type"] == "/problems/amount-mismatch"
    assert order_row(sql, order["id"])["status"] == "PENDING"
    assert payments_of(sql, order["id"]) == []  # a rejection took no money


def test_without_amount_the_orders_total_is_recorded(make_event, buy, pay, sql):
    order = buy(make_event(price="30.00", currency="EUR")["id"], 3).json
    assert pay(order["id"]).status_code == 204
    assert payments_of(sql, order["id"]) == [
        {"payment_id": None, "amount": "90.00", "currency": "EUR", "state": "captured"}
    ]


# ------------------------------------------------------------------ payment ids


def test_a_repeated_payment_id_gets_the_first_answer(make_event, buy, pay, sql):
    event = make_event(price="10.00")
    order = buy(event["id"], 1).json
    assert pay(order["id"], payment_id="pay_ok", amount="10.00").status_code == 204
    for _ in range(2):
        assert pay(order["id"], payment_id="pay_ok", amount="10.00").status_code == 204
    assert len(payments_of(sql, order["id"])) == 1
    assert len(deliveries_of(sql, order["id"])) == 1

    # A first answer that was an error is given again, even after the state moved on.
    other = buy(event["id"], 1).json
    first = pay(other["id"], payment_id="pay_bad", amount="1.00")
    assert first.status_code == 409
    assert pay(other["id"], payment_id="pay_good", amount="10.00").status_code == 204
    again = pay(other["id"], payment_id="pay_bad", amount="1.00")
    assert again.status_code == 409
    assert again.json["type"] == "/problems/amount-mismatch"
    assert again.json["detail"] == first.json["detail"]
    assert [p["state"] for p in payments_of(sql, other["id"])] == ["refund_due", "captured"]


def test_a_payment_id_of_another_order_is_409(make_event, buy, pay, sql):
    event = make_event(price="10.00")
    first, second = buy(event["id"], 1).json, buy(event["id"], 1).json
    assert pay(first["id"], payment_id="pay_once").status_code == 204
    response = pay(second["id"], payment_id="pay_once")
    assert response.status_code == 409
    assert response.json["type"] == "/problems/payment-id-reused"
    assert order_row(sql, second["id"])["status"] == "PENDING"
    assert payments_of(sql, second["id"]) == []


def test_concurrent_deliveries_of_one_payment_id_capture_once(make_app, make_event, buy, sql):
    order = buy(make_event(price="10.00")["id"], 1).json
    clients = [make_app().test_client() for _ in range(4)]
    codes = run_together(
        [
            lambda c=c: post_signed(c, order["id"], {"status": "PAID", "payment_id": "pay_race"}).status_code
            for c in clients
        ]
    )
    assert codes == [204] * 4
    assert len(payments_of(sql, order["id"])) == 1


def test_a_second_payment_for_a_paid_order_is_due_back(make_event, buy, pay, sql):
    order = buy(make_event(price="10.00")["id"], 1).json
    assert pay(order["id"], payment_id="pay_a").status_code == 204
    response = pay(order["id"], payment_id="pay_b")
    assert response.status_code == 409 and response.json["type"] == "/problems/invalid-transition"
    assert [p["state"] for p in payments_of(sql, order["id"])] == ["captured", "refund_due"]
    assert order_row(sql, order["id"])["status"] == "PAID"


def test_paid_again_without_ids_is_still_a_harmless_204(make_event, buy, pay, sql):
    order = buy(make_event()["id"], 1).json
    for _ in range(3):
        assert pay(order["id"]).status_code == 204
    assert len(payments_of(sql, order["id"])) == 1


# ------------------------------------------------------------------ refund_due


@pytest.mark.parametrize("first", ["REJECTED", "CANCELLED"])
def test_paid_for_a_rejected_or_cancelled_order_is_409_and_refund_due(
    make_event, buy, pay, sql, client, buyer, first
):
    event = make_event(price="10.00", capacity=3)
    order = buy(event["id"], 1).json
    if first == "REJECTED":
        assert pay(order["id"], "REJECTED").status_code == 204
    else:
        assert (
            client.post(f"/api/v1/orders/{order['id']}/cancel", headers=buyer["headers"]).status_code == 200
        )
    response = pay(order["id"], payment_id="pay_late", amount="10.00")
    assert response.status_code == 409 and response.json["type"] == "/problems/invalid-transition"
    assert order_row(sql, order["id"])["status"] == first
    assert payments_of(sql, order["id"]) == [
        {"payment_id": "pay_late", "amount": "10.00", "currency": "BRL", "state": "refund_due"}
    ]
    assert remaining(sql, event["id"]) == 3
    assert_books_balance(sql)


def expire(app, sql, order_id):
    sql.all("UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = %s", (order_id,))
    with app.app_context():
        assert expire_due_orders() == 1


def test_late_payment_without_tickets_left_is_refund_due(app, make_event, buy, pay, sql, users):
    event = make_event(price="10.00", capacity=1)
    order = buy(event["id"], 1).json
    rival = users.create()
    expire(app, sql, order["id"])  # then someone else buys the last ticket
    assert buy(event["id"], 1, user=rival).status_code == 201
    response = pay(order["id"], payment_id="pay_expired")
    assert response.status_code == 409 and response.json["type"] == "/problems/payment-after-expiry"
    row = order_row(sql, order["id"])
    assert row["status"] == "EXPIRED" and row["late_payment_at"] is not None
    assert [p["state"] for p in payments_of(sql, order["id"])] == ["refund_due"]
    assert_books_balance(sql)


def test_late_payment_with_tickets_left_is_captured(app, make_event, buy, pay, sql):
    event = make_event(price="10.00", capacity=2)
    order = buy(event["id"], 1).json
    expire(app, sql, order["id"])
    assert pay(order["id"], payment_id="pay_late_ok").status_code == 204
    assert order_row(sql, order["id"])["status"] == "PAID"
    assert [p["state"] for p in payments_of(sql, order["id"])] == ["captured"]
    assert remaining(sql, event["id"]) == 1
    assert_books_balance(sql)


# ------------------------------------------------------------------ refunds


@pytest.fixture
def paid_order(make_event, buy, pay):
    event = make_event(price="50.00", capacity=4)
    order = buy(event["id"], 3).json
    assert pay(order["id"], payment_id=f"pay_{uuid.uuid4().hex}", amount="150.00").status_code == 204
    return {**order, "event": event}


def test_refund_a_paid_order(client, admin, paid_order, sql):
    event_id = paid_order["event"]["id"]
    assert remaining(sql, event_id) == 1
    response = client.post(
        f"/api/v1/orders/{paid_order['id']}/refund", json={"reason": "show moved"}, headers=admin["headers"]
    )
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "REFUNDED" and body["reason"] == "show moved"
    assert {t["status"] for t in body["tickets"]} == {"CANCELLED"}
    assert remaining(sql, event_id) == 4  # capacity back on sale
    [payment] = payments_of(sql, paid_order["id"])
    assert payment["state"] == "refund_due" and payment["amount"] == "150.00"
    assert_books_balance(sql)
    # Refunding again is an invalid transition, and releases nothing twice.
    again = client.post(f"/api/v1/orders/{paid_order['id']}/refund", json={}, headers=admin["headers"])
    assert again.status_code == 409 and again.json["type"] == "/problems/invalid-transition"
    assert remaining(sql, event_id) == 4


def test_refunded_capacity_can_be_sold_again(client, admin, paid_order, buy, sql, users):
    client.post(f"/api/v1/orders/{paid_order['id']}/refund", json={}, headers=admin["headers"])
    assert buy(paid_order["event"]["id"], 4, user=users.create()).status_code == 201
    assert remaining(sql, paid_order["event"]["id"]) == 0
    assert_books_balance(sql)


def test_refund_with_a_used_ticket_is_409(client, admin, paid_order, sql):
    ticket = paid_order["tickets"][0]["id"]
    assert client.post(f"/api/v1/tickets/{ticket}/check-in", headers=admin["headers"]).status_code == 200
    response = client.post(f"/api/v1/orders/{paid_order['id']}/refund", json={}, headers=admin["headers"])
    assert response.status_code == 409
    assert response.json["type"] == "/problems/ticket-already-used"
    assert response.json["used_tickets"] == [ticket]
    assert order_row(sql, paid_order["id"])["status"] == "PAID"
    assert remaining(sql, paid_order["event"]["id"]) == 1
    assert [p["state"] for p in payments_of(sql, paid_order["id"])] == ["captured"]


def test_refund_needs_a_paid_order(client, admin, make_event, buy):
    order = buy(make_event()["id"], 1).json
    response = client.post(f"/api/v1/orders/{order['id']}/refund", json={}, headers=admin["headers"])
    assert response.status_code == 409 and response.json["type"] == "/problems/invalid-transition"
    missing = client.post(f"/api/v1/orders/{uuid.uuid4()}/refund", json={}, headers=admin["headers"])
    assert missing.status_code == 404


def test_refund_is_for_admins(client, buyer, paid_order):
    response = client.post(f"/api/v1/orders/{paid_order['id']}/refund", json={}, headers=buyer["headers"])
    assert response.status_code == 403


def test_a_refunded_ticket_cannot_be_checked_in(client, admin, paid_order):
    client.post(f"/api/v1/orders/{paid_order['id']}/refund", json={}, headers=admin["headers"])
    ticket = paid_order["tickets"][0]["id"]
    response = client.post(f"/api/v1/tickets/{ticket}/check-in", headers=admin["headers"])
    assert response.status_code == 409


def test_webhooks_after_a_refund(client, admin, paid_order, pay, sql):
    client.post(f"/api/v1/orders/{paid_order['id']}/refund", json={}, headers=admin["headers"])
    assert pay(paid_order["id"], "REJECTED").status_code == 409
    late = pay(paid_order["id"], payment_id="pay_after_refund", amount="150.00")
    assert late.status_code == 409 and late.json["type"] == "/problems/invalid-transition"
    assert [p["state"] for p in payments_of(sql, paid_order["id"])] == ["refund_due", "refund_due"]


def test_refund_racing_check_in(make_app, admin, paid_order, sql):
    """Either the check-in wins (refund 409) or the refund wins (check-in 409): never both."""
    ticket = paid_order["tickets"][0]["id"]
    a, b = make_app().test_client(), make_app().test_client()
    refund, check_in = run_together(
        [
            lambda: (
                a.post(
                    f"/api/v1/orders/{paid_order['id']}/refund", json={}, headers=admin["headers"]
                ).status_code
            ),
            lambda: b.post(f"/api/v1/tickets/{ticket}/check-in", headers=admin["headers"]).status_code,
        ]
    )
    assert sorted([refund, check_in]) == [200, 409]
    status = order_row(sql, paid_order["id"])["status"]
    used = sql.value(
        "SELECT count(*) FROM tickets WHERE order_id = %s AND status = 'USED'", (paid_order["id"],)
    )
    assert (status, used) in (("REFUNDED", 0), ("PAID", 1))
    assert_books_balance(sql)


# ------------------------------------------------------------------ the ledger


def test_payments_list_and_mark_refunded(client, admin, paid_order, make_event, buy, pay):
    other = buy(make_event(price="5.00")["id"], 1).json
    assert pay(other["id"], payment_id="pay_other").status_code == 204
    client.post(f"/api/v1/orders/{paid_order['id']}/refund", json={}, headers=admin["headers"])

    everything = client.get("/api/v1/payments", headers=admin["headers"])
    assert everything.status_code == 200 and len(everything.json) == 2
    due = client.get("/api/v1/payments?state=refund_due", headers=admin["headers"])
    [payment] = due.json
    assert payment["order_id"] == paid_order["id"] and payment["amount"] == "150.00"
    assert set(payment) == {
        "id",
        "order_id",
        "payment_id",
        "amount",
        "currency",
        "state",
        "received_at",
        "updated_at",
        "refunded_at",
    }
    assert '"total": 1' in due.headers["X-Pagination"]

    done = client.post(f"/api/v1/payments/{payment['id']}/refunded", headers=admin["headers"])
    assert done.status_code == 200 and done.json["state"] == "refunded" and done.json["refunded_at"]
    again = client.post(f"/api/v1/payments/{payment['id']}/refunded", headers=admin["headers"])
    assert again.status_code == 200 and again.json["refunded_at"] == done.json["refunded_at"]
    assert client.get("/api/v1/payments?state=refund_due", headers=admin["headers"]).json == []

    captured = client.get("/api/v1/payments?state=captured", headers=admin["headers"]).json[0]
    refused = client.post(f"/api/v1/payments/{captured['id']}/refunded", headers=admin["headers"])
    assert refused.status_code == 409 and refused.json["type"] == "/problems/invalid-transition"
    assert (
        client.post(f"/api/v1/payments/{uuid.uuid4()}/refunded", headers=admin["headers"]).status_code == 404
    )


def test_payments_are_for_admins(client, buyer):
    assert client.get("/api/v1/payments", headers=buyer["headers"]).status_code == 403
    assert client.get("/api/v1/payments").status_code == 401
    assert client.get("/api/v1/payments?state=lost", headers=buyer["headers"]).status_code in (403, 422)
