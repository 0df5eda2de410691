"""Outgoing webhooks against a real HTTP receiver: endpoints, events recorded with their
changes, signed deliveries, retries with backoff, a receiver that is down, and several
instances delivering together without sending one attempt twice."""

import time
import uuid
from collections import Counter

import pytest

from tests.support.books import assert_books_balance
from tests.support.timeouts import wait_until
from tests.support.webhooks import post_signed
from ticketing.orders.expiry import expire_due_orders
from ticketing.outbox import targets
from ticketing.outbox.delivery import deliver_due

ALL = [
    "order.created",
    "order.paid",
    "order.rejected",
    "order.cancelled",
    "order.expired",
    "order.refunded",
    "ticket.checked_in",
    "event.sold_out",
]


@pytest.fixture
def endpoint(client, admin, receiver):
    """An endpoint subscribed to every event type, at the receiver: its JSON (with secret)."""

    def create(events=ALL, url=None):
        response = client.post(
            "/api/v1/webhook-endpoints",
            json={"url": url or receiver.url, "events": events},
            headers=admin["headers"],
        )
        assert response.status_code == 201, response.json
        return response.json

    return create


@pytest.fixture
def deliver(app, settings):
    """Run delivery rounds in this process until nothing is due (waiting for retries due
    within `within` seconds)."""
    sender = targets.Sender(settings.webhook_timeout_seconds)

    def run(within=0.0):
        deadline = time.monotonic() + within
        total = 0
        with app.app_context():
            while True:
                claimed = deliver_due(settings, sender)
                total += claimed
                if not claimed:
                    if time.monotonic() >= deadline:
                        return total
                    time.sleep(0.05)

    yield run
    sender.close()


def deliveries(sql, type_=None):
    rows = sql.all(
        "SELECT type, subject_id::text, attempts, last_status, delivered_at, failed_at, data"
        " FROM webhook_deliveries ORDER BY created_at, id"
    )
    return [r for r in rows if type_ is None or r["type"] == type_]


# ------------------------------------------------------------------ endpoints


def test_endpoint_crud_and_the_secret_shown_once(client, admin, receiver):
    created = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": receiver.url, "events": ["order.paid"]},
        headers=admin["headers"],
    )
    assert created.status_code == 201
    body = created.json
    assert set(body) == {"id", "url", "events", "secret", "created_at", "disabled_at"}
    assert body["secret"].startswith("whsec_") and body["disabled_at"] is None
    one = client.get(f"/api/v1/webhook-endpoints/{body['id']}", headers=admin["headers"])
    assert one.status_code == 200 and "secret" not in one.json
    listed = client.get("/api/v1/webhook-endpoints", headers=admin["headers"])
    assert [e["id"] for e in listed.json] == [body["id"]] and "secret" not in listed.json[0]

    patched = client.patch(
        f"/api/v1/webhook-endpoints/{body['id']}",
        json={"events": ["order.paid", "order.refunded"], "disabled": True},
        headers=admin["headers"],
    )
    assert patched.status_code == 200
    assert patched.json["events"] == ["order.paid", "order.refunded"] and patched.json["disabled_at"]
    enabled = client.patch(
        f"/api/v1/webhook-endpoints/{body['id']}", json={"disabled": False}, headers=admin["headers"]
    )
    assert enabled.json["disabled_at"] is None
    assert (
        client.delete(f"/api/v1/webhook-endpoints/{body['id']}", headers=admin["headers"]).status_code == 204
    )
    assert client.get(f"/api/v1/webhook-endpoints/{body['id']}", headers=admin["headers"]).status_code == 404
    assert (
        client.delete(f"/api/v1/webhook-endpoints/{body['id']}", headers=admin["headers"]).status_code == 404
    )


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://example.com/x", "events": ["order.paid"]},
        {"url": "not a url", "events": ["order.paid"]},
        {"url": "https://93.184.216.34/x", "events": []},
        {"url": "https://93.184.216.34/x", "events": ["order.shipped"]},
        {"url": "https://93.184.216.34/x", "events": ["order.paid", "order.paid"]},
        {"url": "https://93.184.216.34/x"},
        {"url": "https://user:pw@93.184.216.34/x", "events": ["order.paid"]},
    ],
)
def test_endpoint_validation(client, admin, body):
    response = client.post("/api/v1/webhook-endpoints", json=body, headers=admin["headers"])
    assert response.status_code == 422, response.json


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://192.168.0.10/x",
        "http://172.16.5.4/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://0.0.0.0/x",
        "http://100.64.0.1/x",
    ],
)
def test_private_targets_are_refused_unless_allowed(make_app, admin, url):
    strict = make_app(webhook_allow_private_targets=False).test_client()
    response = strict.post(
        "/api/v1/webhook-endpoints", json={"url": url, "events": ["order.paid"]}, headers=admin["headers"]
    )
    assert response.status_code == 422
    assert "url" in response.json["errors"]


def test_a_public_target_is_accepted(make_app, admin):
    strict = make_app(webhook_allow_private_targets=False).test_client()
    response = strict.post(
        "/api/v1/webhook-endpoints",
        json={"url": "https://93.184.216.34/hooks?x=1", "events": ["order.paid"]},
        headers=admin["headers"],
    )
    assert response.status_code == 201


def test_endpoints_are_for_admins(client, buyer):
    assert client.get("/api/v1/webhook-endpoints", headers=buyer["headers"]).status_code == 403
    assert client.post("/api/v1/webhook-endpoints", json={}, headers=buyer["headers"]).status_code == 403


# ------------------------------------------------------------------ events, recorded with their change


def test_no_endpoint_no_outbox_rows(make_event, buy, sql):
    buy(make_event()["id"], 1)
    assert deliveries(sql) == []


def test_every_event_type_is_recorded_with_its_change(
    app, client, admin, buyer, make_event, buy, sql, endpoint, users
):
    endpoint()
    event = make_event(capacity=10, price="10.00")
    paid = buy(event["id"], 2).json
    assert post_signed(client, paid["id"], {"status": "PAID"}).status_code == 204
    rejected = buy(event["id"], 1).json
    assert post_signed(client, rejected["id"], {"status": "REJECTED"}).status_code == 204
    cancelled = buy(event["id"], 1).json
    assert (
        client.post(f"/api/v1/orders/{cancelled['id']}/cancel", headers=buyer["headers"]).status_code == 200
    )
    expired = buy(event["id"], 1).json
    sql.all("UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = %s", (expired["id"],))
    with app.app_context():
        assert expire_due_orders() == 1
    ticket = paid["tickets"][0]["id"]
    assert client.post(f"/api/v1/tickets/{ticket}/check-in", headers=admin["headers"]).status_code == 200
    refunded = buy(event["id"], 1).json
    post_signed(client, refunded["id"], {"status": "PAID"})
    assert (
        client.post(f"/api/v1/orders/{refunded['id']}/refund", json={}, headers=admin["headers"]).status_code
        == 200
    )
    last = buy(event["id"], 10 - 2, user=users.create()).json  # all the rest: sold out
    assert last["status"] == "PENDING"

    recorded = Counter((r["type"], r["subject_id"]) for r in deliveries(sql))
    assert recorded == Counter(
        {("order.created", o["id"]): 1 for o in (paid, rejected, cancelled, expired, refunded, last)}
        | {
            ("order.paid", paid["id"]): 1,
            ("order.paid", refunded["id"]): 1,
            ("order.rejected", rejected["id"]): 1,
            ("order.cancelled", cancelled["id"]): 1,
            ("order.expired", expired["id"]): 1,
            ("order.refunded", refunded["id"]): 1,
            ("ticket.checked_in", ticket): 1,
            ("event.sold_out", event["id"]): 1,
        }
    )
    assert_books_balance(sql)


def test_only_subscribed_types_and_enabled_endpoints(client, admin, make_event, buy, sql, endpoint):
    paid_only = endpoint(["order.paid"])
    order = buy(make_event()["id"], 1).json
    assert deliveries(sql) == []  # order.created: nobody subscribed
    client.patch(
        f"/api/v1/webhook-endpoints/{paid_only['id']}", json={"disabled": True}, headers=admin["headers"]
    )
    post_signed(client, order["id"], {"status": "PAID"})
    assert deliveries(sql) == []


def test_a_failed_change_records_no_event(client, make_event, buy, sql, endpoint):
    endpoint()
    order = buy(make_event(price="10.00")["id"], 1).json
    before = len(deliveries(sql))
    assert post_signed(client, order["id"], {"status": "PAID", "amount": "1.00"}).status_code == 409
    assert post_signed(client, str(uuid.uuid4()), {"status": "PAID"}).status_code == 404
    assert len(deliveries(sql)) == before


# ------------------------------------------------------------------ deliveries


def test_deliveries_arrive_signed_and_verifiable(
    client, admin, make_event, buy, sql, endpoint, receiver, deliver
):
    hook = endpoint(["order.created", "order.paid"])
    order = buy(make_event()["id"], 2).json
    post_signed(client, order["id"], {"status": "PAID"})
    assert deliver() == 2
    created, paid = receiver.of_type("order.created"), receiver.of_type("order.paid")
    assert len(created) == len(paid) == 1
    for got in created + paid:
        assert got.path == "/hooks"
        assert got.headers["Content-Type"] == "application/json"
        assert got.verifies(hook["secret"])
        assert not got.verifies("whsec_another")
        assert got.webhook_id == got.json["id"]
        assert set(got.json) == {"id", "type", "created_at", "data"}
        assert got.json["created_at"].endswith("Z")
    # `data` is the order as the API shows it.
    shown = client.get(f"/api/v1/orders/{order['id']}", headers=admin["headers"]).json
    assert paid[0].json["data"] == shown
    assert created[0].json["data"]["id"] == order["id"]
    log = client.get(f"/api/v1/webhook-endpoints/{hook['id']}/deliveries", headers=admin["headers"])
    assert log.status_code == 200
    assert {d["type"] for d in log.json} == {"order.created", "order.paid"}
    for row in log.json:
        assert row["attempts"] == 1 and row["last_status"] == 200 and row["delivered_at"]
        assert row["next_attempt_at"] is None and row["failed_at"] is None


def test_ticket_and_event_payloads(client, admin, make_event, buy, endpoint, receiver, deliver):
    endpoint(["ticket.checked_in", "event.sold_out"])
    event = make_event(capacity=2)
    order = buy(event["id"], 2).json
    post_signed(client, order["id"], {"status": "PAID"})
    ticket = order["tickets"][0]["id"]
    client.post(f"/api/v1/tickets/{ticket}/check-in", headers=admin["headers"])
    deliver()
    [checked] = receiver.of_type("ticket.checked_in")
    assert checked.json["data"] == client.get(f"/api/v1/tickets/{ticket}", headers=admin["headers"]).json
    [sold_out] = receiver.of_type("event.sold_out")
    assert sold_out.json["data"]["id"] == event["id"] and sold_out.json["data"]["remaining"] == 0


def test_500_twice_then_200_is_sent_once_per_attempt(
    client, admin, make_event, buy, sql, endpoint, receiver, deliver
):
    hook = endpoint(["order.created"])
    receiver.answers = [500, 500]
    order = buy(make_event()["id"], 1).json
    deliver(within=3)  # first retry after 0.2 s here (WEBHOOK_RETRY_FIRST_MS), then 0.4 s
    got = receiver.of_type("order.created")
    assert len(got) == 3
    assert len({r.webhook_id for r in got}) == 1 and got[0].json["data"]["id"] == order["id"]
    assert got[0].body == got[1].body == got[2].body  # the same event, byte for byte
    [row] = client.get(f"/api/v1/webhook-endpoints/{hook['id']}/deliveries", headers=admin["headers"]).json
    assert row["attempts"] == 3 and row["last_status"] == 200 and row["delivered_at"]
    deliver(within=0.5)
    assert len(receiver.of_type("order.created")) == 3  # delivered: never sent again


def test_backoff_doubles_from_the_first_retry_and_is_capped(
    make_app, make_event, buy, sql, endpoint, receiver
):
    """The default schedule: first retry 5 s after the failure, then 10, 20, ... at most 1 h."""
    from dataclasses import replace

    app = make_app(webhook_retry_first_seconds=5.0)
    settings = replace(app.config["SETTINGS"])
    endpoint(["order.created"])
    receiver.answers = [503] * 3
    buy(make_event()["id"], 1)
    sender = targets.Sender(5)
    delays = []
    with app.app_context():
        for _ in range(3):
            assert deliver_due(settings, sender) == 1
            delays.append(
                sql.value("SELECT extract(epoch FROM next_attempt_at - now()) FROM webhook_deliveries")
            )
            sql.all("UPDATE webhook_deliveries SET next_attempt_at = now()")
        sql.all("UPDATE webhook_deliveries SET attempts = 30, next_attempt_at = now()")
        receiver.answers = [503]
        deliver_due(settings, sender)
    sender.close()
    assert 4 < delays[0] <= 5 and 9 < delays[1] <= 10 and 19 < delays[2] <= 20
    capped = sql.value("SELECT extract(epoch FROM next_attempt_at - now()) FROM webhook_deliveries")
    assert 3590 < capped <= 3600


def test_after_the_retry_window_it_fails_and_can_be_retried(
    client, admin, make_event, buy, sql, endpoint, receiver, deliver
):
    hook = endpoint(["order.created"])
    receiver.answers = [500]
    buy(make_event()["id"], 1)
    sql.all("UPDATE webhook_deliveries SET retry_from = now() - interval '25 hours'")
    deliver()
    [row] = client.get(f"/api/v1/webhook-endpoints/{hook['id']}/deliveries", headers=admin["headers"]).json
    assert row["failed_at"] and row["last_status"] == 500 and row["next_attempt_at"] is None
    deliver(within=0.5)
    assert len(receiver.received) == 1  # failed: not sent again by itself

    retried = client.post(
        f"/api/v1/webhook-endpoints/{hook['id']}/deliveries/{row['id']}/retry", headers=admin["headers"]
    )
    assert retried.status_code == 200 and retried.json["failed_at"] is None
    deliver()
    assert len(receiver.received) == 2
    [row] = client.get(f"/api/v1/webhook-endpoints/{hook['id']}/deliveries", headers=admin["headers"]).json
    assert row["delivered_at"] and row["attempts"] == 2
    other = client.post(
        f"/api/v1/webhook-endpoints/{hook['id']}/deliveries/{uuid.uuid4()}/retry", headers=admin["headers"]
    )
    assert other.status_code == 404


def test_a_receiver_down_for_a_while_misses_nothing(make_event, buy, sql, endpoint, receiver, deliver, users):
    endpoint(["order.created"])
    receiver.stop()
    event = make_event(capacity=50)
    orders = [buy(event["id"], 1, user=users.create()).json["id"] for _ in range(5)]
    deliver()  # connection refused: every delivery waits for its retry
    assert receiver.received == []
    rows = deliveries(sql)
    assert all(r["delivered_at"] is None and r["failed_at"] is None for r in rows)
    orders += [buy(event["id"], 1, user=users.create()).json["id"] for _ in range(3)]  # while down
    receiver.start()
    deliver(within=3)
    got = receiver.of_type("order.created")
    assert sorted(r.json["data"]["id"] for r in got) == sorted(orders)
    assert len(set(receiver.ids())) == len(receiver.ids()) == 8  # each once
    assert all(r["delivered_at"] for r in deliveries(sql))


def test_a_disabled_endpoint_receives_when_enabled_again(
    client, admin, make_event, buy, endpoint, receiver, deliver
):
    hook = endpoint(["order.created"])
    buy(make_event()["id"], 1)
    client.patch(f"/api/v1/webhook-endpoints/{hook['id']}", json={"disabled": True}, headers=admin["headers"])
    deliver()
    assert receiver.received == []
    client.patch(
        f"/api/v1/webhook-endpoints/{hook['id']}", json={"disabled": False}, headers=admin["headers"]
    )
    deliver()
    assert len(receiver.received) == 1


def test_a_target_turned_private_is_not_contacted(make_app, make_event, buy, sql, endpoint, receiver):
    endpoint(["order.created"])  # allowed when saved (tests allow loopback)
    buy(make_event()["id"], 1)
    strict = make_app(webhook_allow_private_targets=False)
    sender = targets.Sender(5)
    with strict.app_context():
        assert deliver_due(strict.config["SETTINGS"], sender) == 1
    assert receiver.received == []
    [row] = sql.all("SELECT attempts, last_status, last_error FROM webhook_deliveries")
    assert row["attempts"] == 1 and row["last_status"] is None and "private" in row["last_error"]


def test_an_unanswering_receiver_times_out(make_app, make_event, buy, sql, endpoint):
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)  # accepts connections, never answers
    try:
        endpoint(["order.created"], url=f"http://127.0.0.1:{silent.getsockname()[1]}/x")
        buy(make_event()["id"], 1)
        app = make_app(webhook_timeout_seconds=1)
        sender = targets.Sender(1)
        started = time.monotonic()
        with app.app_context():
            deliver_due(app.config["SETTINGS"], sender)
        assert time.monotonic() - started < 5
    finally:
        silent.close()
    [row] = sql.all("SELECT attempts, last_status, last_error FROM webhook_deliveries")
    assert row["attempts"] == 1 and row["last_status"] is None and "timed out" in row["last_error"].lower()


# ------------------------------------------------------------------ the loop, in real workers


def test_workers_deliver_within_a_second_or_two(gunicorn, client, admin, make_event, buy, endpoint, receiver):
    gunicorn(EXPIRY_SWEEP_MS="0", WEBHOOK_DELIVERY_MS="1000")  # the default delivery loop
    endpoint(["order.created"])
    started = time.monotonic()
    buy(make_event()["id"], 1)
    wait_until(lambda: receiver.received, "the worker never delivered")
    assert time.monotonic() - started < 5  # "within a second or two", with room for a busy machine


def test_two_instances_delivering_together_never_send_one_attempt_twice(
    gunicorn, sql, admin, make_event, endpoint, receiver, users
):
    servers = [gunicorn(EXPIRY_SWEEP_MS="0", WEBHOOK_DELIVERY_MS="50") for _ in range(2)]
    endpoint(["order.created", "order.paid"])
    receiver.answers = [500] * 20  # some attempts fail and are retried, by whichever worker
    event = make_event(capacity=1000)
    buyers = users.many_headers(150)
    for i, headers in enumerate(buyers):
        response = servers[i % 2].post(
            "/api/v1/orders", json={"event_id": event["id"], "quantity": 1}, headers=headers
        )
        assert response.status_code == 201
    expected = sql.value("SELECT count(*) FROM webhook_deliveries")
    assert expected == 150
    wait_until(
        lambda: (
            sql.value("SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NOT NULL") == expected
        ),
        "not every event was delivered",
    )
    attempts = sql.value("SELECT sum(attempts) FROM webhook_deliveries")
    assert len(receiver.received) == attempts  # one request per attempt, no more
    per_event = Counter(receiver.ids())
    assert len(per_event) == expected
    assert sum(per_event.values()) - expected == 20  # the 20 failures, each retried once


def test_order_data_is_exactly_the_api_representation(app, client, admin, make_event, buy, sql):
    """The delivery loop writes orders out without marshmallow; it must match OrderOut."""
    from ticketing.orders import repository
    from ticketing.outbox.delivery import ORDER_OUT, order_data

    event = make_event(price="12.34", currency="EUR")
    pending = buy(event["id"], 3).json
    paid = buy(event["id"], 1).json
    post_signed(client, paid["id"], {"status": "PAID", "reason": "ok"})
    client.post(f"/api/v1/tickets/{paid['tickets'][0]['id']}/check-in", headers=admin["headers"])
    sql.all(
        "UPDATE orders SET late_payment_at = now(), updated_at = date_trunc('second', now()) WHERE id = %s",
        (paid["id"],),
    )
    with app.app_context():  # ticket codes are signed with the app's key
        rows = repository.get_many(order_ids=[pending["id"], paid["id"]])
        written = [order_data(row) for row in rows]
        dumped = [ORDER_OUT.dump(row) for row in rows]  # the tickets as order_data left them
    assert len(rows) == 2
    for row, data, reference in zip(rows, written, dumped):
        assert data == reference
        # as an admin sees it: the PAID order's tickets with their codes, the pending one's without
        assert data == client.get(f"/api/v1/orders/{row['id']}", headers=admin["headers"]).json
    assert all(t["code"] for t in written[[r["id"] for r in rows].index(paid["id"])]["tickets"])


def test_flask_deliver_webhooks_sends_what_is_due(app, make_event, buy, endpoint, receiver, sql):
    endpoint(["order.created"])
    buy(make_event()["id"], 1)
    result = app.test_cli_runner().invoke(args=["deliver-webhooks"])
    assert result.exit_code == 0 and "Attempted 1 deliveries" in result.output
    assert len(receiver.received) == 1
    assert sql.value("SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NOT NULL") == 1


def test_a_lost_worker_s_attempt_is_made_again_and_its_late_outcome_ignored(
    app, settings, make_event, buy, endpoint, receiver, sql
):
    """A worker claims an attempt and dies before recording it: once the lease is over,
    another worker makes the next attempt; an outcome the first one records late is ignored."""
    from ticketing.outbox import repository

    endpoint(["order.created"])
    buy(make_event()["id"], 1)
    with app.app_context():
        [claimed] = repository.claim_due(batch_size=10, lease_seconds=60)  # ... and the worker dies
        assert claimed["attempts"] == 1
        assert repository.claim_due(batch_size=10, lease_seconds=60) == []  # leased: nobody else
        sql.all("UPDATE webhook_deliveries SET next_attempt_at = now()")  # the lease runs out
        sender = targets.Sender(5)
        assert deliver_due(settings, sender) == 1
        sender.close()
        late = repository.record_attempts(
            ids=[claimed["id"]],
            attempts=[1],
            statuses=[500],
            errors=["late"],
            delivered=[False],
            released=[False],
            data=[None],
            first_retry_seconds=0.2,
            retry_hours=24,
        )
        assert late == 0
    row = sql.one("SELECT attempts, last_status, delivered_at FROM webhook_deliveries")
    assert row["attempts"] == 2 and row["last_status"] == 200 and row["delivered_at"]
    assert len(receiver.received) == 1


def test_the_log_forgets_old_deliveries_but_never_pending_ones(
    app, settings, make_event, buy, endpoint, sql, users
):
    from ticketing.outbox.delivery import prune_log

    endpoint(["order.created"])
    event = make_event()
    for _ in range(3):
        buy(event["id"], 1, user=users.create())
    sql.all(
        "UPDATE webhook_deliveries SET delivered_at = now() - interval '31 days'"
        " WHERE id = (SELECT id FROM webhook_deliveries ORDER BY id LIMIT 1)"
    )
    sql.all(
        "UPDATE webhook_deliveries SET failed_at = now() - interval '1 day'"
        " WHERE id = (SELECT id FROM webhook_deliveries WHERE delivered_at IS NULL ORDER BY id LIMIT 1)"
    )
    with app.app_context():
        assert prune_log(settings) == 1
    assert sql.value("SELECT count(*) FROM webhook_deliveries") == 2
