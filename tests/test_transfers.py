"""Ticket transfers: the holder gives a ticket away in one statement that also revokes its
code; who may, when not, what everyone sees afterwards, and GET /me/tickets."""

import json
import uuid

import pytest

from tests.support.concurrency import rush
from tests.support.problems import assert_problem


@pytest.fixture
def give(client):
    def post(ticket_id, holder, email):
        return client.post(
            f"/api/v1/tickets/{ticket_id}/transfer", json={"email": email}, headers=holder["headers"]
        )

    return post


@pytest.fixture
def friend(users):
    return users.create(name="Friend")


def row(sql, ticket_id):
    return sql.one(
        "SELECT holder_id::text, code_version, status FROM tickets WHERE id = %s",
        (ticket_id,),
    )


def test_transfer_moves_the_ticket_and_revokes_its_code(client, make_event, order, buyer, friend, give, sql):
    event = make_event()
    paid = order(event["id"], 2)
    ticket_id = paid["tickets"][0]["id"]
    old_code = client.get(f"/api/v1/tickets/{ticket_id}", headers=buyer["headers"]).json["code"]

    response = give(ticket_id, buyer, friend["email"].upper())  # emails match whatever their case
    assert response.status_code == 200
    assert response.json["id"] == ticket_id and response.json["holder_id"] == friend["id"]
    assert response.json["code"] is None  # the giver no longer holds it
    assert row(sql, ticket_id) == {"holder_id": friend["id"], "code_version": 2, "status": "VALID"}

    # The new holder sees it, with a new code.
    mine = client.get(f"/api/v1/tickets/{ticket_id}", headers=friend["headers"])
    assert mine.status_code == 200 and mine.json["holder_id"] == friend["id"]
    assert mine.json["code"] and mine.json["code"] != old_code
    held = client.get("/api/v1/me/tickets", headers=friend["headers"]).json
    assert [t["id"] for t in held] == [ticket_id] and held[0]["code"] == mine.json["code"]

    # The buyer: the ticket is gone from their tickets, their order lists it as transferred.
    assert_problem(client.get(f"/api/v1/tickets/{ticket_id}", headers=buyer["headers"]), 404, "not-found")
    assert [t["id"] for t in client.get("/api/v1/me/tickets", headers=buyer["headers"]).json] == [
        paid["tickets"][1]["id"]
    ]
    bought = client.get(f"/api/v1/orders/{paid['id']}", headers=buyer["headers"]).json
    by_id = {t["id"]: t for t in bought["tickets"]}
    assert by_id[ticket_id]["holder_id"] == friend["id"] and by_id[ticket_id]["code"] is None
    assert (
        by_id[paid["tickets"][1]["id"]]["holder_id"] == buyer["id"]
        and by_id[paid["tickets"][1]["id"]]["code"]
    )
    # The friend does not see the buyer's order.
    assert_problem(client.get(f"/api/v1/orders/{paid['id']}", headers=friend["headers"]), 404, "not-found")


def test_a_ticket_can_move_on_and_come_back(make_event, order, buyer, friend, users, give, sql, client):
    ticket_id = order(make_event()["id"])["tickets"][0]["id"]
    third = users.create()
    assert give(ticket_id, buyer, friend["email"]).status_code == 200
    assert_problem(give(ticket_id, buyer, third["email"]), 404, "not-found")  # no longer the buyer's to give
    assert give(ticket_id, friend, third["email"]).status_code == 200
    assert give(ticket_id, third, buyer["email"]).status_code == 200
    assert row(sql, ticket_id) == {"holder_id": buyer["id"], "code_version": 4, "status": "VALID"}
    assert client.get(f"/api/v1/tickets/{ticket_id}", headers=buyer["headers"]).status_code == 200
    assert_problem(client.get(f"/api/v1/tickets/{ticket_id}", headers=friend["headers"]), 404, "not-found")


def test_only_the_holder_transfers(make_event, order, friend, users, staff, admin, give, sql):
    ticket_id = order(make_event()["id"])["tickets"][0]["id"]
    for someone in (users.create(), staff, admin, friend):
        assert_problem(give(ticket_id, someone, users.create()["email"]), 404, "not-found")
    for unknown in (str(uuid.uuid4()), "not-a-uuid"):
        assert_problem(give(unknown, friend, users.create()["email"]), 404, "not-found")
    assert row(sql, ticket_id)["code_version"] == 1


def test_unknown_recipient_and_self(make_event, order, buyer, give, sql):
    ticket_id = order(make_event()["id"])["tickets"][0]["id"]
    assert_problem(give(ticket_id, buyer, "nobody@example.com"), 422, "unknown-recipient")
    itself = assert_problem(give(ticket_id, buyer, buyer["email"]), 422, "validation-error")
    assert "email" in itself["errors"]
    assert row(sql, ticket_id)["code_version"] == 1


def test_transfer_body_is_validated(client, make_event, order, buyer):
    ticket_id = order(make_event()["id"])["tickets"][0]["id"]
    path = f"/api/v1/tickets/{ticket_id}/transfer"
    for body in ({}, {"email": ""}, {"email": 5}, {"email": "a@b.co", "holder_id": str(uuid.uuid4())}):
        assert_problem(client.post(path, json=body, headers=buyer["headers"]), 422, "validation-error")
    assert_problem(client.post(path, json={"email": "a@b.co"}), 401, "unauthorized")


def test_used_cancelled_and_unpaid_tickets_stay(client, make_event, order, buyer, friend, give, admin, sql):
    event = make_event()
    used = order(event["id"])["tickets"][0]["id"]
    checked = client.post(f"/api/v1/tickets/{used}/check-in", headers=admin["headers"]).json
    refused = assert_problem(give(used, buyer, friend["email"]), 409, "already-checked-in")
    assert refused["checked_in_at"] == checked["checked_in_at"]

    rejected = order(event["id"], status="REJECTED")["tickets"][0]["id"]
    assert_problem(give(rejected, buyer, friend["email"]), 409, "ticket-cancelled")

    pending = order(event["id"], status="PENDING")["tickets"][0]["id"]
    assert_problem(give(pending, buyer, friend["email"]), 409, "ticket-not-paid")
    for ticket_id in (used, rejected, pending):
        assert row(sql, ticket_id)["holder_id"] is None and row(sql, ticket_id)["code_version"] == 1


def test_no_transfer_once_the_event_started_or_was_deleted(
    client, make_event, order, buyer, friend, give, admin, sql
):
    started = make_event()
    ticket_id = order(started["id"])["tickets"][0]["id"]
    sql.all("UPDATE events SET date = now() - interval '1 minute' WHERE id = %s", (started["id"],))
    assert_problem(give(ticket_id, buyer, friend["email"]), 409, "event-closed")

    deleted = make_event()
    other = order(deleted["id"])["tickets"][0]["id"]
    client.delete(f"/api/v1/events/{deleted['id']}", headers=admin["headers"])
    assert_problem(give(other, buyer, friend["email"]), 409, "event-closed")
    assert row(sql, ticket_id)["code_version"] == row(sql, other)["code_version"] == 1


def test_two_transfers_of_one_ticket_at_once_give_it_once(live_server, make_event, order, buyer, users, sql):
    ticket_id = order(make_event()["id"])["tickets"][0]["id"]
    recipients = [users.create() for _ in range(4)]

    def give_at_once(i, session):
        response = live_server.post(
            f"/api/v1/tickets/{ticket_id}/transfer",
            json={"email": recipients[i]["email"]},
            session=session,
            headers=buyer["headers"],
        )
        return response.status_code, response.json()

    results = rush(len(recipients), give_at_once)
    assert sorted(status for status, _ in results) == [200, 404, 404, 404], results
    winner = next(body for status, body in results if status == 200)
    assert row(sql, ticket_id) == {"holder_id": winner["holder_id"], "code_version": 2, "status": "VALID"}


# ------------------------------------------------------------------ GET /me/tickets


def test_my_tickets_are_paid_held_tickets_soonest_event_first(client, make_event, order, buyer, friend, give):
    later = make_event(name="Later", date="2031-01-01T00:00:00Z")
    sooner = make_event(name="Sooner", date="2030-01-01T00:00:00Z")
    late_tickets = [t["id"] for t in order(later["id"], 2)["tickets"]]
    soon_ticket = order(sooner["id"])["tickets"][0]["id"]
    order(sooner["id"], status="PENDING")  # holds are not tickets yet
    order(sooner["id"], status="REJECTED")
    given = order(later["id"], user=friend)["tickets"][0]["id"]
    assert give(given, friend, buyer["email"]).status_code == 200

    response = client.get("/api/v1/me/tickets", headers=buyer["headers"])
    assert response.status_code == 200
    assert [t["id"] for t in response.json] == [soon_ticket, *sorted([*late_tickets, given])]
    assert all(t["holder_id"] == buyer["id"] and t["code"] and t["status"] == "VALID" for t in response.json)
    assert json.loads(response.headers["X-Pagination"])["total"] == 4
    page = client.get("/api/v1/me/tickets?page=2&page_size=3", headers=buyer["headers"])
    assert [t["id"] for t in page.json] == [t["id"] for t in response.json][3:]
    assert client.get("/api/v1/me/tickets?page=9", headers=buyer["headers"]).json == []
    assert client.get("/api/v1/me/tickets", headers=friend["headers"]).json == []
    assert_problem(client.get("/api/v1/me/tickets"), 401, "unauthorized")
