"""The purchase lane (ticketing/orders/fastlane.py): a plain purchase that sells is answered
in front of Flask, exactly as Flask answers it; everything else is Flask's, and a purchase
the lane ran is never run twice."""

import json
import uuid

import pytest
from werkzeug.test import Client

from tests.support.api import SIGNED_IN_LOG_KEYS
from ticketing.orders import service
from ticketing.orders.fastlane import PurchaseLane
from ticketing.queue.fastlane import FastLane


@pytest.fixture
def lane(app, monkeypatch):
    """The lane, with the requests it hands to Flask (its `inner`) recorded."""
    queue_lane = app.wsgi_app.app
    assert isinstance(queue_lane, FastLane)
    purchase_lane = queue_lane.inner
    assert isinstance(purchase_lane, PurchaseLane)
    inner = purchase_lane.inner
    purchase_lane.handed_on = []

    def counted(environ, start_response):
        if environ["PATH_INFO"] == "/api/v1/orders":
            purchase_lane.handed_on.append(environ["REQUEST_METHOD"])
        return inner(environ, start_response)

    monkeypatch.setattr(purchase_lane, "inner", counted)
    purchase_lane.flask_only = Client(inner)
    return purchase_lane


@pytest.fixture
def purchases(monkeypatch):
    """How many times service.purchase ran (whichever lane ran it)."""
    calls = []
    real = service.purchase

    def counted(*args, **kwargs):
        calls.append(kwargs.get("event_id"))
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "purchase", counted)
    return calls


def test_a_sale_is_answered_exactly_as_flask_answers_it(client, lane, make_event, buyer, capsys):
    event = make_event(capacity=10)
    body = {"event_id": event["id"], "quantity": 2}
    headers = buyer["headers"]
    capsys.readouterr()
    fast = client.post("/api/v1/orders", json=body, headers={**headers, "X-Request-ID": "trace-1"})
    slow = lane.flask_only.post(
        "/api/v1/orders",
        json=body,
        headers={**headers, "X-Request-ID": "trace-2"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},  # as Flask's test client sets it
    )
    assert lane.handed_on == []  # the first was the lane's own
    assert fast.status == slow.status == "201 CREATED"
    assert (
        [k for k, _ in fast.headers]
        == [k for k, _ in slow.headers]
        == [
            "Content-Type",
            "Content-Length",
            "Location",
            "X-Content-Type-Options",
            "Cache-Control",
            "Content-Security-Policy",
            "X-Request-ID",
        ]
    )
    different = {"Location", "X-Request-ID", "Content-Length"}
    assert [(k, v) for k, v in fast.headers if k not in different] == [
        (k, v) for k, v in slow.headers if k not in different
    ]
    assert (fast.headers["X-Request-ID"], slow.headers["X-Request-ID"]) == ("trace-1", "trace-2")
    for answer in (fast, slow):
        order = answer.json
        assert answer.headers["Location"] == f"/api/v1/orders/{order['id']}"
        assert answer.headers["Content-Length"] == str(len(answer.get_data()))
        # the same order rendered by Flask (GET, the same OrderOut): byte for byte
        assert answer.get_data() == client.get(answer.headers["Location"], headers=headers).get_data()
    assert list(fast.json) == list(slow.json)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    posts = [line for line in lines if line["method"] == "POST"]
    assert len(posts) == 2
    for line, request_id in zip(posts, ("trace-1", "trace-2")):
        assert list(line) == SIGNED_IN_LOG_KEYS
        assert (line["path"], line["status"], line["request_id"], line["user_id"]) == (
            "/api/v1/orders",
            201,
            request_id,
            buyer["id"],
        )
        assert line["remote_addr"] == "127.0.0.1"


def test_the_lane_counts_the_request_and_the_sale_like_flask(app, client, lane, make_event, buyer):
    from ticketing import metrics

    event = make_event(capacity=10)
    metrics.flush()
    before = _samples()
    assert (
        client.post(
            "/api/v1/orders", json={"event_id": event["id"], "quantity": 3}, headers=buyer["headers"]
        ).status_code
        == 201
    )
    assert lane.handed_on == []
    metrics.flush()
    after = _samples()
    changed = {key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key, 0)}
    assert (
        changed[("http_requests_total", (("method", "POST"), ("route", "/api/v1/orders"), ("status", "201")))]
        == 1
    )
    assert changed[("ticketing_purchases_total", (("outcome", "created"),))] == 1
    assert changed[("ticketing_tickets_sold_total", ())] == 3


def _samples() -> dict:
    from prometheus_client import REGISTRY

    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for metric in REGISTRY.collect()
        for sample in metric.samples
        if sample.name in ("http_requests_total", "ticketing_purchases_total", "ticketing_tickets_sold_total")
    }


def test_every_other_request_is_flasks_own(client, lane, make_event, buyer, purchases):
    event = make_event(capacity=10)
    url, good = "/api/v1/orders", {"event_id": event["id"], "quantity": 1}
    headers = buyer["headers"]
    cases = [
        ({"json": good, "headers": {}}, 401),
        ({"json": good, "headers": {"Authorization": "Bearer not-a-token"}}, 401),
        ({"json": {**good, "price": "1.00"}, "headers": headers}, 422),
        ({"json": {**good, "quantity": 0}, "headers": headers}, 422),
        ({"json": {**good, "quantity": 101}, "headers": headers}, 422),
        ({"json": {**good, "quantity": "1"}, "headers": headers}, 422),
        ({"json": {**good, "quantity": True}, "headers": headers}, 422),
        ({"json": {"quantity": 1}, "headers": headers}, 422),
        ({"json": [good], "headers": headers}, 422),
        ({"json": {**good, "event_id": "not-a-uuid"}, "headers": headers}, 422),
        ({"data": json.dumps(good), "headers": headers, "content_type": "text/plain"}, 415),
        (
            {
                "data": '{"event_id": "x", "event_id": "y"}',
                "headers": headers,
                "content_type": "application/json",
            },
            400,
        ),
        ({"json": good, "headers": {**headers, "Idempotency-Key": "two words"}}, 422),
        ({"json": good, "headers": {**headers, "Idempotency-Key": "k" * 256}}, 422),
        # accepted by Flask, but not taken by the lane: Flask sells
        ({"json": {**good, "event_id": "{" + event["id"] + "}"}, "headers": headers}, 201),
        ({"json": {**good, "event_id": event["id"].replace("-", "")}, "headers": headers}, 201),
        (
            {"data": json.dumps(good), "headers": headers, "content_type": "application/json; charset=utf-8"},
            201,
        ),
    ]
    for request, status in cases:
        lane.handed_on.clear()
        answer = client.post(url, **request)
        assert answer.status_code == status, (request, answer.json)
        assert lane.handed_on == ["POST"], request
    # each purchase ran once: those Flask sold, and none of the refused ones
    assert len(purchases) == 3
    assert client.get("/api/v1/orders", method="GET", headers=headers).status_code == 200


def test_a_refusal_runs_the_purchase_once_and_is_flasks_answer(
    client, lane, make_event, buyer, purchases, sql
):
    event = make_event(capacity=1)
    body = {"event_id": event["id"], "quantity": 2}
    fast = client.post("/api/v1/orders", json=body, headers=buyer["headers"])
    assert lane.handed_on == ["POST"] and len(purchases) == 1  # ran by the lane, answered by Flask
    slow = lane.flask_only.post("/api/v1/orders", json=body, headers=buyer["headers"])
    assert len(purchases) == 2
    assert fast.status_code == slow.status_code == 409
    assert fast.get_data() == slow.get_data()
    assert fast.json["type"] == "/problems/sold-out"
    assert [(k, v) for k, v in fast.headers if k != "X-Request-ID"] == [
        (k, v) for k, v in slow.headers if k != "X-Request-ID"
    ]
    assert (
        client.post(
            "/api/v1/orders", json={"event_id": str(uuid.uuid4()), "quantity": 1}, headers=buyer["headers"]
        ).status_code
        == 404
    )
    assert len(purchases) == 3


def test_an_error_in_the_lane_is_flasks_500_and_nothing_runs_twice(
    app, client, lane, make_event, buyer, monkeypatch
):
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("the purchase broke")

    monkeypatch.setattr(service, "purchase", broken)
    event = make_event(capacity=5)
    app.config["TESTING"] = False  # the app's own 500 handler, as in production
    answer = client.post(
        "/api/v1/orders", json={"event_id": event["id"], "quantity": 1}, headers=buyer["headers"]
    )
    assert answer.status_code == 500
    assert answer.json["type"] == "/problems/internal-error" or answer.json["status"] == 500
    assert calls == [1]
    assert lane.handed_on == ["POST"]


def test_the_written_out_order_is_orderouts_dump(app, make_event, order, buyer):
    from datetime import datetime, timezone
    from decimal import Decimal

    from ticketing.orders import repository
    from ticketing.orders.schemas import OrderOut, order_out
    from ticketing.security import Principal

    event = make_event(capacity=10, price="12.30")
    paid, pending = order(event["id"], 2), order(event["id"], 1, status="PENDING")
    principal = Principal(buyer["id"], "user", 0)
    schema = OrderOut()
    with app.app_context():
        rows = [repository.get(order_id=paid["id"]), repository.get(order_id=pending["id"])]
        sold = repository.purchase(
            user_id=buyer["id"], token_version=0, event_id=event["id"], quantity=3, hold_seconds=60
        )
        rows.append(sold)
        batch = repository.purchase_batch(
            event_id=event["id"],
            hold_seconds=60,
            requests=[{"user_id": buyer["id"], "token_version": 0, "quantity": 1, "ticket_type_id": None}],
        )
        rows.extend(batch)
        for row in rows:
            shown = service.shown(principal, row)
            assert order_out(shown) == schema.dump(shown)
            assert list(order_out(shown)) == list(schema.dump(shown))
    assert rows[0]["tickets"][0]["code"] is not None  # a PAID order's codes, shown
    odd = {
        **rows[1],
        "tickets": None,
        "reason": "a reason",
        "late_payment_at": datetime(2030, 1, 2, 3, 4, 5, 600, tzinfo=timezone.utc),
        "unit_price": Decimal("7"),
    }
    assert order_out(odd) == schema.dump(odd)
    partial = {key: value for key, value in rows[1].items() if key != "reason"}  # marshmallow skips it
    assert order_out(partial) == schema.dump(partial) and "reason" not in order_out(partial)


def test_keyed_purchases_take_the_lane_and_replays_are_flasks(client, lane, make_event, buyer, purchases):
    event = make_event(capacity=10)
    body = {"event_id": event["id"], "quantity": 2}
    keyed = {**buyer["headers"], "Idempotency-Key": "lane-key-1"}
    first = client.post("/api/v1/orders", json=body, headers=keyed)
    assert first.status_code == 201 and lane.handed_on == [] and len(purchases) == 1
    slow = lane.flask_only.post(
        "/api/v1/orders", json=body, headers={**buyer["headers"], "Idempotency-Key": "k2"}
    )
    assert [k for k, _ in first.headers] == [k for k, _ in slow.headers]
    assert "Idempotent-Replayed" not in first.headers
    # the same key again: the lane runs it once (a replay), Flask renders the stored answer
    again = client.post("/api/v1/orders", json=body, headers=keyed)
    assert lane.handed_on == ["POST"] and len(purchases) == 3
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json["id"] == first.json["id"]
    replayed_by_flask = lane.flask_only.post("/api/v1/orders", json=body, headers=keyed)
    assert [(k, v) for k, v in again.headers if k != "X-Request-ID"] == [
        (k, v) for k, v in replayed_by_flask.headers if k != "X-Request-ID"
    ]
    assert again.get_data() == replayed_by_flask.get_data()
    # the same key with another body: 422, remembered and replayed the same way
    other = client.post("/api/v1/orders", json={**body, "quantity": 1}, headers=keyed)
    assert other.status_code == 422 and other.json["type"] == "/problems/idempotency-key-reused"
    # a refusal with a key is remembered by the one run, then replayed
    sold_out = {**buyer["headers"], "Idempotency-Key": "lane-key-2"}
    big = {"event_id": event["id"], "quantity": 9}
    refused = client.post("/api/v1/orders", json=big, headers=sold_out)
    assert refused.status_code == 409
    replay = client.post("/api/v1/orders", json=big, headers=sold_out)
    assert replay.status_code == 409 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json == refused.json


def test_a_queue_pass_takes_the_lane_and_answers_as_flask(client, lane, make_event, buyer, purchases):
    event = make_event(capacity=10, queue={"admit_per_minute": 60})
    body = {"event_id": event["id"], "quantity": 1}
    headers = {**buyer["headers"], "Queue-Pass": "not-a-pass"}
    fast = client.post("/api/v1/orders", json=body, headers=headers)
    slow = lane.flask_only.post("/api/v1/orders", json=body, headers=headers)
    assert fast.status_code == slow.status_code == 403
    assert fast.get_data() == slow.get_data() and fast.json["detail"] == "Unknown Queue-Pass"
    assert len(purchases) == 2  # once in each lane
