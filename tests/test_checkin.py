"""Tickets at the door: check-in exactly once, the owner's view, per-event counts."""

import uuid
from datetime import datetime

import pytest

from tests.support.concurrency import rush
from tests.support.samples import WEBHOOK


@pytest.fixture
def check_in(client, admin):
    def post(ticket_id, headers=None):
        return client.post(
            f"/api/v1/tickets/{ticket_id}/check-in", headers=admin["headers"] if headers is None else headers
        )

    return post


def ticket_row(sql, ticket_id):
    return sql.one("SELECT status, checked_in_at FROM tickets WHERE id = %s", (ticket_id,))


def parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


# ------------------------------------------------------------------ check-in


def test_check_in_a_paid_ticket(make_event, order, check_in, sql):
    event = make_event()
    paid = order(event["id"], 2)
    ticket_id = paid["tickets"][0]["id"]
    response = check_in(ticket_id)
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"id", "order_id", "event_id", "status", "checked_in_at"}
    assert body["id"] == ticket_id and body["order_id"] == paid["id"] and body["event_id"] == event["id"]
    assert body["status"] == "USED" and body["checked_in_at"].endswith("Z")
    row = ticket_row(sql, ticket_id)
    assert row["status"] == "USED" and row["checked_in_at"] == parse(body["checked_in_at"])
    other = ticket_row(sql, paid["tickets"][1]["id"])
    assert other == {"status": "VALID", "checked_in_at": None}


def test_second_scan_is_409_with_the_first_time(make_event, order, check_in, sql):
    ticket_id = order(make_event()["id"])["tickets"][0]["id"]
    first = check_in(ticket_id).json
    again = check_in(ticket_id)
    assert again.status_code == 409
    assert again.headers["Content-Type"] == "application/problem+json"
    assert again.json["type"] == "/problems/already-checked-in"
    assert again.json["checked_in_at"] == first["checked_in_at"]
    assert ticket_row(sql, ticket_id)["checked_in_at"] == parse(first["checked_in_at"])


@pytest.mark.parametrize("status", ["REJECTED", "CANCELLED"])
def test_cancelled_ticket_is_409(client, buyer, make_event, order, check_in, sql, status):
    pending = order(make_event()["id"], status="PENDING" if status == "CANCELLED" else status)
    if status == "CANCELLED":
        cancelled = client.post(f"/api/v1/orders/{pending['id']}/cancel", headers=buyer["headers"])
        assert cancelled.status_code == 200
    ticket_id = pending["tickets"][0]["id"]
    response = check_in(ticket_id)
    assert response.status_code == 409
    assert response.json["type"] == "/problems/ticket-cancelled"
    assert ticket_row(sql, ticket_id) == {"status": "CANCELLED", "checked_in_at": None}


def test_ticket_of_an_unpaid_order_is_409_until_paid(client, make_event, order, check_in, sql):
    pending = order(make_event()["id"], status="PENDING")
    ticket_id = pending["tickets"][0]["id"]
    response = check_in(ticket_id)
    assert response.status_code == 409
    assert response.json["type"] == "/problems/ticket-not-paid"
    assert "PENDING" in response.json["detail"]
    assert ticket_row(sql, ticket_id) == {"status": "VALID", "checked_in_at": None}

    client.post(f"/api/v1/orders/{pending['id']}/status", json={"status": "PAID"}, headers=WEBHOOK)
    assert check_in(ticket_id).status_code == 200


def test_check_in_unknown_ticket_is_404(check_in):
    for ticket_id in (str(uuid.uuid4()), "not-a-uuid"):
        response = check_in(ticket_id)
        assert response.status_code == 404 and response.json["type"] == "/problems/not-found"


def test_only_staff_and_admins_check_in(make_event, order, check_in, buyer, users, sql):
    ticket_id = order(make_event()["id"])["tickets"][0]["id"]
    assert check_in(ticket_id, headers=buyer["headers"]).status_code == 403
    assert check_in(ticket_id, headers={}).status_code == 401
    assert ticket_row(sql, ticket_id)["status"] == "VALID"
    assert check_in(ticket_id, headers=users.create(role="staff")["headers"]).status_code == 200


def test_simultaneous_scans_check_in_once(live_server, make_event, order, admin, sql):
    """Several scanners read the same ticket at the same instant: exactly one 200."""
    ticket_id = order(make_event()["id"])["tickets"][0]["id"]
    scanners = 8

    def scan(i, session):
        response = live_server.post(
            f"/api/v1/tickets/{ticket_id}/check-in", session=session, headers=admin["headers"]
        )
        return response.status_code, response.json()

    results = rush(scanners, scan)

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * (scanners - 1), results
    winner = next(body for status, body in results if status == 200)
    for status, body in results:
        if status == 409:
            assert body["type"] == "/problems/already-checked-in"
            assert body["checked_in_at"] == winner["checked_in_at"]
    row = ticket_row(sql, ticket_id)
    assert row["status"] == "USED" and row["checked_in_at"] == parse(winner["checked_in_at"])


# ------------------------------------------------------------------ GET /tickets/<id>


def test_owner_reads_a_ticket(client, make_event, order, buyer, check_in):
    event = make_event(price="42.00")
    paid = order(event["id"])
    ticket_id = paid["tickets"][0]["id"]
    response = client.get(f"/api/v1/tickets/{ticket_id}", headers=buyer["headers"])
    assert response.status_code == 200
    body = dict(response.json)
    code = body.pop("code")
    assert body == {
        "id": ticket_id,
        "order_id": paid["id"],
        "event_id": event["id"],
        "ticket_type_id": event["ticket_types"][0]["id"],
        "ticket_type_name": "General",
        "price": "42.00",
        "status": "VALID",
        "checked_in_at": None,
        "holder_id": buyer["id"],
        "event": {"id": event["id"], "name": event["name"], "date": event["date"]},
    }
    assert isinstance(code, str) and len(code) <= 160
    used = check_in(ticket_id).json
    after = client.get(f"/api/v1/tickets/{ticket_id}", headers=buyer["headers"]).json
    assert after["status"] == "USED" and after["checked_in_at"] == used["checked_in_at"]


def test_tickets_are_private(client, make_event, order, users, admin):
    ticket_id = order(make_event()["id"])["tickets"][0]["id"]
    stranger = users.create()
    hidden = client.get(f"/api/v1/tickets/{ticket_id}", headers=stranger["headers"])
    assert hidden.status_code == 404 and hidden.json["type"] == "/problems/not-found"
    assert client.get(f"/api/v1/tickets/{ticket_id}", headers=admin["headers"]).status_code == 200
    assert client.get(f"/api/v1/tickets/{ticket_id}").status_code == 401
    assert client.get(f"/api/v1/tickets/{uuid.uuid4()}", headers=admin["headers"]).status_code == 404
    assert client.get("/api/v1/tickets/not-a-uuid", headers=admin["headers"]).status_code == 404


def test_tickets_of_a_deleted_event_stay_readable(client, make_event, order, buyer, admin):
    event = make_event()
    ticket_id = order(event["id"])["tickets"][0]["id"]
    client.delete(f"/api/v1/events/{event['id']}", headers=admin["headers"])
    response = client.get(f"/api/v1/tickets/{ticket_id}", headers=buyer["headers"])
    assert response.status_code == 200 and response.json["event"]["id"] == event["id"]


# ------------------------------------------------------------------ event stats


def test_event_stats(client, make_event, order, check_in, admin):
    event = make_event(capacity=20)
    paid = order(event["id"], 2)
    order(event["id"], 3, status="PENDING")
    order(event["id"], 1, status="REJECTED")
    check_in(paid["tickets"][0]["id"])
    other = make_event(name="Other")  # other events' tickets don't count
    check_in(order(other["id"], 4)["tickets"][0]["id"])

    response = client.get(f"/api/v1/events/{event['id']}/stats", headers=admin["headers"])
    assert response.status_code == 200
    assert response.json == {
        "event_id": event["id"],
        "capacity": 20,
        "remaining": 15,
        "sold": 5,
        "pending": 3,
        "paid": 2,
        "checked_in": 1,
        "cancelled": 1,
        # the same per ticket type (tests/test_ticket_types.py has several)
        "ticket_types": [
            {
                "ticket_type_id": event["ticket_types"][0]["id"],
                "name": "General",
                "capacity": 20,
                "remaining": 15,
                "sold": 5,
                "pending": 3,
                "paid": 2,
                "checked_in": 1,
                "cancelled": 1,
            }
        ],
    }


def test_stats_of_an_event_with_no_orders(client, make_event, admin):
    event = make_event(capacity=7)
    response = client.get(f"/api/v1/events/{event['id']}/stats", headers=admin["headers"])
    assert response.json == {
        "event_id": event["id"],
        "capacity": 7,
        "remaining": 7,
        "sold": 0,
        "pending": 0,
        "paid": 0,
        "checked_in": 0,
        "cancelled": 0,
        "ticket_types": [
            {
                "ticket_type_id": event["ticket_types"][0]["id"],
                "name": "General",
                "capacity": 7,
                "remaining": 7,
                "sold": 0,
                "pending": 0,
                "paid": 0,
                "checked_in": 0,
                "cancelled": 0,
            }
        ],
    }


def test_stats_unknown_or_deleted_is_404(client, make_event, admin):
    event = make_event()
    client.delete(f"/api/v1/events/{event['id']}", headers=admin["headers"])
    for event_id in (event["id"], str(uuid.uuid4()), "not-a-uuid"):
        response = client.get(f"/api/v1/events/{event_id}/stats", headers=admin["headers"])
        assert response.status_code == 404 and response.json["type"] == "/problems/not-found"


def test_only_admins_see_stats(client, make_event, buyer):
    event = make_event()
    assert client.get(f"/api/v1/events/{event['id']}/stats", headers=buyer["headers"]).status_code == 403
    assert client.get(f"/api/v1/events/{event['id']}/stats").status_code == 401
