"""Sale start and per-user limits: the event fields, and their enforcement inside the one
purchase statement (races with real commits against gunicorn included)."""

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.support.books import assert_books_balance
from tests.support.concurrency import run_together, rush
from tests.support.problems import assert_problem
from tests.support.samples import EVENT


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


@pytest.fixture
def patch(client, admin):
    def send(event_id, body):
        return client.patch(f"/api/v1/events/{event_id}", json=body, headers=admin["headers"])

    return send


# ------------------------------------------------------------------ the fields


def test_new_fields_on_create_get_list_and_patch(client, make_event, patch):
    starts = "2030-01-01T09:00:00Z"
    event = make_event(sale_starts_at=starts, max_per_user=6, queue={"admit_per_minute": 600})
    assert event["sale_starts_at"] == starts
    assert event["max_per_user"] == 6
    assert event["queue"] == {"admit_per_minute": 600, "pass_seconds": 300}
    assert client.get(f"/api/v1/events/{event['id']}").json == event
    listed = client.get("/api/v1/events").json
    assert [e for e in listed if e["id"] == event["id"]] == [event]

    changed = patch(event["id"], {"queue": {"admit_per_minute": 60, "pass_seconds": 30}, "max_per_user": 2})
    assert changed.status_code == 200, changed.json
    assert changed.json["queue"] == {"admit_per_minute": 60, "pass_seconds": 30}
    assert changed.json["max_per_user"] == 2 and changed.json["sale_starts_at"] == starts

    cleared = patch(event["id"], {"queue": None, "max_per_user": None, "sale_starts_at": None})
    assert cleared.status_code == 200
    assert (cleared.json["queue"], cleared.json["max_per_user"], cleared.json["sale_starts_at"]) == (
        None,
    ) * 3
    untouched = patch(event["id"], {"name": "Renamed"}).json
    assert (untouched["queue"], untouched["max_per_user"], untouched["sale_starts_at"]) == (None,) * 3


def test_patch_queue_keeps_its_opening_time_when_only_settings_change(make_event, patch, sql):
    event = make_event(queue={"admit_per_minute": 600})
    opened = sql.value("SELECT queue_opened_at FROM events WHERE id = %s", (event["id"],))
    assert patch(event["id"], {"queue": {"admit_per_minute": 1200}}).status_code == 200
    assert sql.value("SELECT queue_opened_at FROM events WHERE id = %s", (event["id"],)) == opened
    patch(event["id"], {"queue": None})
    assert sql.value("SELECT queue_opened_at FROM events WHERE id = %s", (event["id"],)) is None


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"max_per_user": 0}, "max_per_user"),
        ({"max_per_user": "3"}, "max_per_user"),
        ({"sale_starts_at": "tomorrow"}, "sale_starts_at"),
        ({"sale_starts_at": "2031-01-01T00:00:00Z"}, "sale_starts_at"),  # after the event's date
        ({"queue": {"admit_per_minute": 0}}, "queue"),
        ({"queue": {"admit_per_minute": 100_001}}, "queue"),
        ({"queue": {"admit_per_minute": 10, "pass_seconds": 29}}, "queue"),
        ({"queue": {"admit_per_minute": 10, "pass_seconds": 3601}}, "queue"),
        ({"queue": {"pass_seconds": 60}}, "queue"),
        ({"queue": {"admit_per_minute": 10, "extra": 1}}, "queue"),
    ],
)
def test_invalid_new_fields_are_422(client, admin, make_event, patch, changes, field):
    created = client.post("/api/v1/events", json={**EVENT, **changes}, headers=admin["headers"])
    assert field in assert_problem(created, 422, "validation-error")["errors"]
    patched = patch(make_event()["id"], changes)
    assert field in assert_problem(patched, 422, "validation-error")["errors"]


def test_sale_start_must_stay_before_the_stored_date(make_event, patch):
    event = make_event(sale_starts_at="2030-01-01T00:00:00Z")
    moved = patch(event["id"], {"date": "2029-12-31T00:00:00Z"})
    assert "sale_starts_at" in assert_problem(moved, 422, "validation-error")["errors"]
    late = patch(event["id"], {"sale_starts_at": "2030-10-10T00:00:00Z"})
    assert "sale_starts_at" in assert_problem(late, 422, "validation-error")["errors"]


# ------------------------------------------------------------------ sale start


def test_no_sale_before_the_start(make_event, buy, sql):
    starts = datetime.now(timezone.utc) + timedelta(hours=1)
    event = make_event(sale_starts_at=rfc3339(starts))
    body = assert_problem(buy(event["id"]), 409, "sale-not-started", "/api/v1/orders")
    assert body["sale_starts_at"] == event["sale_starts_at"]
    sql.all("UPDATE events SET sale_starts_at = now() - interval '1 second' WHERE id = %s", (event["id"],))
    assert buy(event["id"]).status_code == 201
    assert_books_balance(sql)


def test_sale_not_started_is_not_remembered_for_the_idempotency_key(make_event, buy, sql):
    event = make_event(sale_starts_at=rfc3339(datetime.now(timezone.utc) + timedelta(hours=1)))
    assert buy(event["id"], key="early-bird").status_code == 409
    sql.all("UPDATE events SET sale_starts_at = now() - interval '1 second' WHERE id = %s", (event["id"],))
    assert buy(event["id"], key="early-bird").status_code == 201


# ------------------------------------------------------------------ per-user limit


def test_limit_counts_pending_and_paid_across_orders(make_event, buy, settle, users, sql):
    event_id = make_event(max_per_user=5)["id"]
    first = buy(event_id, 2)
    assert first.status_code == 201
    settle(first.json["id"], "PAID")
    assert buy(event_id, 2).status_code == 201
    body = assert_problem(buy(event_id, 2), 409, "per-user-limit", "/api/v1/orders")
    assert body["allowed"] == 1
    assert buy(event_id, 1).status_code == 201
    assert assert_problem(buy(event_id, 1), 409, "per-user-limit")["allowed"] == 0
    # another buyer has a limit of their own
    assert buy(event_id, 5, user=users.create()).status_code == 201
    assert_books_balance(sql)


def test_a_single_order_above_the_limit_is_refused(make_event, buy):
    event_id = make_event(max_per_user=3)["id"]
    assert assert_problem(buy(event_id, 4), 409, "per-user-limit")["allowed"] == 3


@pytest.mark.parametrize("release", ["cancel", "reject", "expire"])
def test_released_orders_stop_counting(client, make_event, buy, buyer, settle, sql, release):
    event_id = make_event(max_per_user=2)["id"]
    order = buy(event_id, 2).json
    assert buy(event_id, 1).status_code == 409
    if release == "cancel":
        assert (
            client.post(f"/api/v1/orders/{order['id']}/cancel", headers=buyer["headers"]).status_code == 200
        )
    elif release == "reject":
        settle(order["id"], "REJECTED")
    else:
        sql.all("UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = %s", (order["id"],))
        assert client.application.test_cli_runner().invoke(args=["expire-orders"]).exit_code == 0
    assert buy(event_id, 2).status_code == 201
    assert_books_balance(sql)


def test_a_late_payment_counts_again(make_event, buy, settle, sql):
    event_id = make_event(max_per_user=2)["id"]
    order = buy(event_id, 2).json
    sql.all("UPDATE orders SET status = 'EXPIRED' WHERE id = %s", (order["id"],))
    sql.all("UPDATE events SET remaining = remaining + 2 WHERE id = %s", (event_id,))
    sql.all("UPDATE ticket_types SET remaining = remaining + 2 WHERE event_id = %s", (event_id,))
    sql.all("UPDATE tickets SET status = 'CANCELLED' WHERE order_id = %s", (order["id"],))
    assert buy(event_id, 2).status_code == 201  # the expired order no longer counted
    settle(order["id"], "PAID")  # the late payment re-reserves it: 4 held, over the limit
    assert sql.value("SELECT tickets FROM holdings WHERE event_id = %s", (event_id,)) == 4
    assert assert_problem(buy(event_id, 1), 409, "per-user-limit")["allowed"] == 0
    assert_books_balance(sql)


def test_lowering_the_limit_stops_further_orders_only(make_event, patch, buy, sql):
    event_id = make_event(max_per_user=6)["id"]
    assert buy(event_id, 4).status_code == 201
    patch(event_id, {"max_per_user": 3})
    assert assert_problem(buy(event_id, 1), 409, "per-user-limit")["allowed"] == 0
    assert sql.value("SELECT count(*) FROM orders WHERE status = 'PENDING'") == 1


def test_turning_a_limit_on_counts_earlier_orders(make_event, patch, buy):
    event_id = make_event()["id"]
    assert buy(event_id, 3).status_code == 201
    patch(event_id, {"max_per_user": 4})
    assert assert_problem(buy(event_id, 2), 409, "per-user-limit")["allowed"] == 1


def test_sold_out_and_limit_together_report_the_limit_first(make_event, buy, users):
    event_id = make_event(capacity=3, max_per_user=2)["id"]
    assert buy(event_id, 2).status_code == 201
    assert buy(event_id, 1, user=users.create()).status_code == 201
    assert assert_problem(buy(event_id, 1), 409, "per-user-limit")["allowed"] == 0
    assert assert_problem(buy(event_id, 1, user=users.create()), 409, "sold-out")["remaining"] == 0


# ------------------------------------------------------------------ races (real commits)


def test_twenty_concurrent_purchases_by_one_user_end_with_exactly_three_orders(
    live_server, make_event, users, sql
):
    event_id = make_event(max_per_user=6, capacity=100)["id"]
    headers = users.many_headers(1)[0]

    def buy(_, session):
        response = live_server.post(
            "/api/v1/orders", session=session, json={"event_id": event_id, "quantity": 2}, headers=headers
        )
        return response.status_code, response.json()

    results = rush(20, buy)
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 3, 409: 17}, statuses
    assert all(
        body["type"] == "/problems/per-user-limit" and body["allowed"] == 0 for s, body in results if s == 409
    )
    assert sql.value("SELECT count(*) FROM orders WHERE event_id = %s", (event_id,)) == 3
    assert sql.value("SELECT remaining FROM events WHERE id = %s", (event_id,)) == 94
    assert_books_balance(sql)


def test_one_user_racing_two_sessions_never_exceeds_the_limit(purchase_server, make_event, users, sql):
    """Two sessions (two tokens) of one account, each sending a burst of odd quantities at
    a limit of 5, several rounds: the held total never goes past 5, and every refusal's
    `allowed` is what was really left when it was decided."""
    event_id = make_event(max_per_user=5, capacity=1000)["id"]
    user = users.create()
    tokens = [user["headers"], {"Authorization": f"Bearer {users.token(user['id'])}"}]
    quantities = [1, 2, 3, 4] * 4

    def buy(i):
        with requests.Session() as session:
            response = purchase_server.post(
                "/api/v1/orders",
                session=session,
                json={"event_id": event_id, "quantity": quantities[i]},
                headers=tokens[i % 2],
            )
            return quantities[i], response.status_code, response.json()

    results = run_together([lambda i=i: buy(i) for i in range(len(quantities))])
    sold = sum(q for q, status, _ in results if status == 201)
    assert 1 <= sold <= 5
    refusals = [body for _, status, body in results if status == 409]
    assert {b["type"] for b in refusals} == {"/problems/per-user-limit"}
    assert all(0 <= b["allowed"] <= 4 for b in refusals)
    held = sql.value(
        "SELECT tickets FROM holdings WHERE event_id = %s AND user_id = %s", (event_id, user["id"])
    )
    assert held == sold
    assert_books_balance(sql)
