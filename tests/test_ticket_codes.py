"""Signed ticket codes: what they hold, who sees them, offline verification, check-in by
code (forged, revoked, double scans, two scanners at once), the revoked-codes list."""

import base64
import os
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.support import ROOT
from tests.support.concurrency import rush
from tests.support.problems import assert_problem
from tests.support.samples import TICKET_SIGNING_KEY
from ticketing.tickets import codes

SEED = base64.b64decode(TICKET_SIGNING_KEY)
URL_SAFE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.fixture
def ticket(client, make_event, order, buyer):
    """A VALID ticket of a PAID order, as its holder (the buyer) sees it."""
    paid = order(make_event()["id"])
    return client.get(f"/api/v1/tickets/{paid['tickets'][0]['id']}", headers=buyer["headers"]).json


@pytest.fixture
def scan(client, staff):
    def post(code, headers=None):
        return client.post("/api/v1/check-ins", json={"code": code}, headers=headers or staff["headers"])

    return post


def status_of(sql, ticket_id):
    return sql.value("SELECT status FROM tickets WHERE id = %s", (ticket_id,))


def flip(code: str, i: int) -> str:
    replacement = "A" if code[i] != "A" else "B"
    return code[:i] + replacement + code[i + 1 :]


# ------------------------------------------------------------------ the code itself


def test_a_code_fits_a_small_qr_and_verifies_offline(client, ticket):
    code = ticket["code"]
    assert len(code) == 132 <= 160 and set(code) <= URL_SAFE
    key = client.get("/api/v1/check-in/public-key")  # no token needed: it is public
    assert key.status_code == 200 and key.json["algorithm"] == "Ed25519"
    # What an offline scanner does (docs/tickets.md), with nothing but the public key.
    raw = base64.urlsafe_b64decode(code + "=" * (-len(code) % 4))
    payload, signature = raw[:35], raw[35:]
    Ed25519PublicKey.from_public_bytes(base64.b64decode(key.json["public_key"])).verify(signature, payload)
    assert payload[0] == 1
    assert str(uuid.UUID(bytes=payload[1:17])) == ticket["id"]
    assert str(uuid.UUID(bytes=payload[17:33])) == ticket["event_id"]
    assert int.from_bytes(payload[33:35], "big") == 1


def test_codes_are_stable_and_distinct(client, make_event, order, buyer):
    paid = order(make_event()["id"], 3)
    again = client.get(f"/api/v1/orders/{paid['id']}", headers=buyer["headers"]).json
    shown = [t["code"] for t in again["tickets"]]
    assert len(set(shown)) == 3 and all(shown)
    one = client.get(f"/api/v1/tickets/{again['tickets'][0]['id']}", headers=buyer["headers"]).json
    assert one["code"] == shown[0]


def test_code_is_null_until_the_order_is_paid(client, make_event, buy, settle, buyer):
    event = make_event()
    bought = buy(event["id"], 2).json
    assert [t["code"] for t in bought["tickets"]] == [None, None]
    assert [t["holder_id"] for t in bought["tickets"]] == [buyer["id"]] * 2
    assert (
        client.get(f"/api/v1/orders/{bought['id']}", headers=buyer["headers"]).json["tickets"][0]["code"]
        is None
    )
    settle(bought["id"], "PAID")
    paid = client.get(f"/api/v1/orders/{bought['id']}", headers=buyer["headers"]).json
    assert all(t["code"] for t in paid["tickets"])
    listed = client.get("/api/v1/orders", headers=buyer["headers"]).json
    assert [t["code"] for t in listed[0]["tickets"]] == [t["code"] for t in paid["tickets"]]

    rejected = buy(event["id"]).json
    settle(rejected["id"], "REJECTED")
    assert (
        client.get(f"/api/v1/orders/{rejected['id']}", headers=buyer["headers"]).json["tickets"][0]["code"]
        is None
    )


def test_staff_and_admins_see_codes_strangers_see_nothing(client, ticket, staff, admin, users):
    for viewer in (staff, admin):
        seen = client.get(f"/api/v1/tickets/{ticket['id']}", headers=viewer["headers"])
        assert seen.status_code == 200 and seen.json["code"] == ticket["code"]
    order = client.get(f"/api/v1/orders/{ticket['order_id']}", headers=admin["headers"]).json
    assert order["tickets"][0]["code"] == ticket["code"]
    stranger = users.create()
    assert_problem(
        client.get(f"/api/v1/tickets/{ticket['id']}", headers=stranger["headers"]), 404, "not-found"
    )
    # Staff read tickets, not orders.
    assert_problem(
        client.get(f"/api/v1/orders/{ticket['order_id']}", headers=staff["headers"]), 404, "not-found"
    )


def test_public_key_matches_the_signing_key(client):
    assert client.get("/api/v1/check-in/public-key").json == {
        "algorithm": "Ed25519",
        "public_key": codes.public_key(SEED),
    }


# ------------------------------------------------------------------ check-in by code


def test_check_in_by_code(scan, ticket, sql, admin):
    response = scan(ticket["code"])
    assert response.status_code == 200
    assert response.json["id"] == ticket["id"] and response.json["status"] == "USED"
    assert response.json["event_id"] == ticket["event_id"] and response.json["order_id"] == ticket["order_id"]
    again = assert_problem(scan(ticket["code"], headers=admin["headers"]), 409, "already-checked-in")
    assert again["checked_in_at"] == response.json["checked_in_at"]
    assert status_of(sql, ticket["id"]) == "USED"


def test_a_code_forged_by_flipping_any_one_character_is_refused(scan, ticket, sql):
    code = ticket["code"]
    for i in range(len(code)):
        assert_problem(scan(flip(code, i)), 422, "invalid-ticket-code", "/api/v1/check-ins")
    assert status_of(sql, ticket["id"]) == "VALID"
    assert scan(code).status_code == 200


def test_malformed_and_foreign_codes_are_refused(scan, ticket, sql):
    code = ticket["code"]
    other_key = os.urandom(32)
    for bad in [
        "x",
        code[:-1],
        code + "A",
        code + "==",
        code[:-2] + "==",
        code.replace("-", "+").replace("_", "/") if ("-" in code or "_" in code) else "+" + code[1:],
        " " + code[1:],
        "é" * 132,
        codes.sign(other_key, ticket["id"], ticket["event_id"], 1),  # another deployment's key
        codes.sign(SEED, ticket["id"], str(uuid.uuid4()), 1),  # our key, but not the ticket's event
    ]:
        assert_problem(scan(bad), 422, "invalid-ticket-code")
    assert status_of(sql, ticket["id"]) == "VALID"


def test_a_code_is_a_string(client, staff):
    for body in ({}, {"code": 12}, {"code": None}, {"code": ""}, {"code": "a", "extra": 1}):
        response = client.post("/api/v1/check-ins", json=body, headers=staff["headers"])
        assert_problem(response, 422, "validation-error")


def test_a_genuine_code_of_an_unknown_ticket_is_404(scan):
    assert_problem(scan(codes.sign(SEED, uuid.uuid4(), uuid.uuid4(), 1)), 404, "not-found")


def test_codes_of_unpaid_and_cancelled_tickets_answer_like_check_in_by_id(
    client, make_event, order, buyer, scan
):
    """Such codes are never shown; signed here, they get the answers of the check-in by id."""
    event = make_event()
    pending = order(event["id"], status="PENDING")["tickets"][0]
    assert_problem(scan(codes.sign(SEED, pending["id"], event["id"], 1)), 409, "ticket-not-paid")
    rejected = order(event["id"], status="REJECTED")["tickets"][0]
    assert_problem(scan(codes.sign(SEED, rejected["id"], event["id"], 1)), 409, "ticket-cancelled")


def test_only_staff_and_admins_scan(client, ticket, buyer, sql):
    response = client.post("/api/v1/check-ins", json={"code": ticket["code"]}, headers=buyer["headers"])
    assert_problem(response, 403, "forbidden")
    assert_problem(client.post("/api/v1/check-ins", json={"code": ticket["code"]}), 401, "unauthorized")
    assert status_of(sql, ticket["id"]) == "VALID"


def test_two_scanners_on_one_code_check_in_once(live_server, ticket, staff, admin, sql):
    scanners = 6

    def scan_at_once(i, session):
        who = staff if i % 2 else admin
        response = live_server.post(
            "/api/v1/check-ins", json={"code": ticket["code"]}, session=session, headers=who["headers"]
        )
        return response.status_code, response.json()

    results = rush(scanners, scan_at_once)
    assert sorted(status for status, _ in results) == [200] + [409] * (scanners - 1), results
    winner = next(body for status, body in results if status == 200)
    for status, body in results:
        if status == 409:
            assert body["type"] == "/problems/already-checked-in"
            assert body["checked_in_at"] == winner["checked_in_at"]
    assert status_of(sql, ticket["id"]) == "USED"


# ------------------------------------------------------------------ revoked codes


def transfer(client, ticket_id, holder, email):
    response = client.post(
        f"/api/v1/tickets/{ticket_id}/transfer", json={"email": email}, headers=holder["headers"]
    )
    assert response.status_code == 200, response.json
    return response.json


def test_a_transferred_tickets_old_code_is_refused(client, ticket, buyer, users, scan, sql):
    friend = users.create()
    transfer(client, ticket["id"], buyer, friend["email"])
    revoked = assert_problem(scan(ticket["code"]), 409, "ticket-code-revoked")
    assert revoked["current_version"] == 2
    assert status_of(sql, ticket["id"]) == "VALID"
    new = client.get(f"/api/v1/tickets/{ticket['id']}", headers=friend["headers"]).json
    assert new["code"] != ticket["code"] and len(new["code"]) == 132
    assert scan(new["code"]).status_code == 200
    # Even used, the old code still says "revoked": the scanner learns it is not this person's.
    assert_problem(scan(ticket["code"]), 409, "ticket-code-revoked")


def test_a_scan_racing_a_transfer_never_both_succeed(
    live_server, make_event, order, buyer, users, staff, sql
):
    friend = users.create()
    for _ in range(4):
        paid = order(make_event()["id"])
        ticket_id = paid["tickets"][0]["id"]
        code = codes.sign(SEED, ticket_id, paid["event_id"], 1)

        def act(i, session, ticket_id=ticket_id, code=code):
            if i == 0:
                path, body, who = f"/api/v1/tickets/{ticket_id}/transfer", {"email": friend["email"]}, buyer
            else:
                path, body, who = "/api/v1/check-ins", {"code": code}, staff
            return live_server.post(path, json=body, session=session, headers=who["headers"]).status_code

        transferred, scanned = rush(2, act)
        assert sorted([transferred, scanned]) == [200, 409], (transferred, scanned)
        row = sql.one("SELECT status, code_version FROM tickets WHERE id = %s", (ticket_id,))
        assert row == (
            {"status": "VALID", "code_version": 2}
            if transferred == 200
            else {"status": "USED", "code_version": 1}
        )


def test_revoked_codes_list(client, make_event, order, buyer, users, staff, admin):
    event = make_event()
    paid = order(event["id"], 3)
    friend, other = users.create(), users.create()
    first, second, kept = (t["id"] for t in paid["tickets"])
    transfer(client, first, buyer, friend["email"])
    transfer(client, first, friend, other["email"])
    transfer(client, second, buyer, friend["email"])
    order(make_event(name="Elsewhere")["id"])  # other events' tickets never show

    for viewer in (staff, admin):
        response = client.get(f"/api/v1/events/{event['id']}/revoked-codes", headers=viewer["headers"])
        assert response.status_code == 200
        expected = sorted(
            [
                {"ticket_id": first, "current_version": 3, "revoked_versions": [1, 2]},
                {"ticket_id": second, "current_version": 2, "revoked_versions": [1]},
            ],
            key=lambda entry: entry["ticket_id"],
        )
        assert response.json == expected
        assert kept not in response.get_data(as_text=True)

    page = client.get(
        f"/api/v1/events/{event['id']}/revoked-codes?page=2&page_size=1", headers=staff["headers"]
    )
    assert page.json == expected[1:]
    assert '"total": 2' in page.headers["X-Pagination"] or '"total":2' in page.headers["X-Pagination"]


def test_revoked_codes_of_an_event_without_transfers_is_empty(client, make_event, order, staff):
    event = make_event()
    order(event["id"], 2)
    response = client.get(f"/api/v1/events/{event['id']}/revoked-codes", headers=staff["headers"])
    assert response.status_code == 200 and response.json == []


def test_revoked_codes_rules(client, make_event, buyer, staff, admin):
    event = make_event()
    path = f"/api/v1/events/{event['id']}/revoked-codes"
    assert_problem(client.get(path, headers=buyer["headers"]), 403, "forbidden")
    assert_problem(client.get(path), 401, "unauthorized")
    client.delete(f"/api/v1/events/{event['id']}", headers=admin["headers"])
    for event_id in (event["id"], str(uuid.uuid4()), "nope"):
        response = client.get(f"/api/v1/events/{event_id}/revoked-codes", headers=staff["headers"])
        assert_problem(response, 404, "not-found")


def test_the_offline_scanner_recipe_in_the_docs_works(client, ticket, users, buyer):
    text = (ROOT / "docs" / "tickets.md").read_text()
    recipe = text.split("```python\n", 1)[1].split("```", 1)[0]
    scope = {}
    exec(recipe, scope)  # noqa: S102 - our own documentation
    verify = scope["verify"]
    key = client.get("/api/v1/check-in/public-key").json["public_key"]
    code, event_id = ticket["code"], ticket["event_id"]
    assert verify(code, key, event_id, {}) == ticket["id"]
    assert verify(flip(code, 50), key, event_id, {}) == "invalid"
    assert verify(code[:-1], key, event_id, {}) == "invalid"
    assert verify(code, key, str(uuid.uuid4()), {}) == "wrong event"
    assert verify(code, codes.public_key(os.urandom(32)), event_id, {}) == "invalid"
    friend = users.create()
    transfer(client, ticket["id"], buyer, friend["email"])
    current = client.get(
        f"/api/v1/events/{event_id}/revoked-codes", headers=users.create(role="staff")["headers"]
    )
    versions = {entry["ticket_id"]: entry["current_version"] for entry in current.json}
    assert verify(code, key, event_id, versions) == "revoked"
    new_code = client.get(f"/api/v1/tickets/{ticket['id']}", headers=friend["headers"]).json["code"]
    assert verify(new_code, key, event_id, versions) == ticket["id"]


def test_a_door_refuses_tickets_of_another_event(client, ticket, staff, make_event, sql):
    elsewhere = make_event(name="Elsewhere")
    path = "/api/v1/check-ins"
    wrong = client.post(
        path, json={"code": ticket["code"], "event_id": elsewhere["id"]}, headers=staff["headers"]
    )
    assert assert_problem(wrong, 409, "wrong-event")["event_id"] == ticket["event_id"]
    assert status_of(sql, ticket["id"]) == "VALID"
    right = client.post(
        path, json={"code": ticket["code"], "event_id": ticket["event_id"]}, headers=staff["headers"]
    )
    assert right.status_code == 200 and right.json["status"] == "USED"
