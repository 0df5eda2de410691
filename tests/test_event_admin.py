"""Admins edit, delete and restore events; what a deleted event still allows."""

import json
import uuid

import pytest

from tests.support.books import assert_books_balance
from tests.support.samples import EVENT


@pytest.fixture
def patch(client, admin):
    def send(event_id, body, headers=None):
        return client.patch(
            f"/api/v1/events/{event_id}", json=body, headers=admin["headers"] if headers is None else headers
        )

    return send


def stored(sql, event_id):
    return sql.one("SELECT capacity, remaining, price, deleted_at FROM events WHERE id = %s", (event_id,))


# ------------------------------------------------------------------ PATCH


def test_patch_changes_only_the_given_fields(client, make_event, patch):
    event = make_event()
    response = patch(event["id"], {"name": "  Rock in Rio 2030 ", "rating": "18+", "max_per_order": 4})
    assert response.status_code == 200
    changed = response.json
    assert changed["name"] == "Rock in Rio 2030" and changed["rating"] == "18+"
    assert changed["max_per_order"] == 4
    untouched = {
        k: v for k, v in event.items() if k not in ("name", "rating", "max_per_order", "ticket_types")
    }
    assert {k: changed[k] for k in untouched} == untouched
    # the one ticket type follows the event's max_per_order (docs/ticket-types.md)
    assert changed["ticket_types"] == [{**event["ticket_types"][0], "max_per_order": 4}]
    assert client.get(f"/api/v1/events/{event['id']}").json == changed


def test_patch_every_creation_field(make_event, patch):
    event = make_event()
    body = {
        "name": "Lollapalooza",
        "location": "São Paulo",
        "organization": "T4F",
        "rating": "16+",
        "date": "2031-03-01T12:00:00-03:00",
        "capacity": 150,
        "price": "250.50",
        "image_url": "https://example.com/lolla.png",
        "description": "Three days",
        "max_per_order": 6,
    }
    response = patch(event["id"], body)
    assert response.status_code == 200
    assert response.json == {
        **event,
        **body,
        "date": "2031-03-01T15:00:00Z",
        "remaining": 150,
        # the one ticket type follows price, capacity and max_per_order
        "ticket_types": [
            {
                "id": event["ticket_types"][0]["id"],
                "name": "General",
                "price": "250.50",
                "capacity": 150,
                "remaining": 150,
                "max_per_order": 6,
            }
        ],
    }


def test_patch_can_clear_the_optional_fields(make_event, patch):
    event = make_event()
    response = patch(event["id"], {"image_url": None, "description": None})
    assert response.status_code == 200
    assert response.json["image_url"] is None and response.json["description"] is None
    kept = patch(event["id"], {"name": "Renamed"}).json
    assert kept["image_url"] is None and kept["description"] is None


def test_capacity_change_moves_remaining_by_the_same_amount(make_event, patch, buy, settle, sql):
    event = make_event(capacity=10)
    settle(buy(event["id"], 3).json["id"], "PAID")
    buy(event["id"], 2)  # PENDING holds count as sold too
    assert stored(sql, event["id"])["remaining"] == 5

    up = patch(event["id"], {"capacity": 25})
    assert up.status_code == 200
    assert (up.json["capacity"], up.json["remaining"]) == (25, 20)
    assert_books_balance(sql)

    down = patch(event["id"], {"capacity": 5})
    assert down.status_code == 200
    assert (down.json["capacity"], down.json["remaining"]) == (5, 0)
    assert_books_balance(sql)
    assert buy(event["id"], 1).json["type"] == "/problems/sold-out"


def test_capacity_below_sold_is_409_and_changes_nothing(make_event, patch, buy, settle, sql):
    event = make_event(capacity=10)
    settle(buy(event["id"], 4).json["id"], "PAID")
    buy(event["id"], 3)
    response = patch(event["id"], {"capacity": 6, "name": "Smaller"})
    assert response.status_code == 409
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json["type"] == "/problems/capacity-below-sold"
    assert response.json["sold"] == 7
    assert "7 tickets are already sold" in response.json["detail"]
    assert stored(sql, event["id"])["capacity"] == 10
    assert sql.value("SELECT name FROM events WHERE id = %s", (event["id"],)) == EVENT["name"]
    assert_books_balance(sql)


def test_released_tickets_lower_the_floor(make_event, patch, buy, settle, sql):
    event = make_event(capacity=10)
    pending = buy(event["id"], 5).json
    assert patch(event["id"], {"capacity": 4}).status_code == 409
    assert settle(pending["id"], "REJECTED").status_code == 204
    response = patch(event["id"], {"capacity": 4})
    assert response.status_code == 200 and response.json["remaining"] == 4
    assert_books_balance(sql)


def test_price_change_applies_to_future_orders_only(client, make_event, patch, buy, buyer, settle):
    event = make_event(price="100.00")
    before = buy(event["id"], 2).json
    assert patch(event["id"], {"price": 80}).json["price"] == "80.00"
    after = buy(event["id"], 1).json
    assert after["unit_price"] == "80.00" and after["total_amount"] == "80.00"
    reread = client.get(f"/api/v1/orders/{before['id']}", headers=buyer["headers"]).json
    assert reread["unit_price"] == "100.00" and reread["total_amount"] == "200.00"
    assert {t["price"] for t in reread["tickets"]} == {"100.00"}
    assert settle(before["id"], "PAID").status_code == 204


@pytest.mark.parametrize(
    "body, field",
    [
        ({"date": "2020-01-01T00:00:00Z"}, "date"),
        ({"date": "2030-01-01T00:00:00"}, "date"),
        ({"date": "9999-12-31T23:00:00-14:00"}, "date"),  # year 10000 in UTC
        ({"name": "x\u0000y"}, "name"),
        ({"description": "nul\u0000"}, "description"),
        ({"image_url": "http://example.com/\u0000.png"}, "image_url"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": "10"}, "capacity"),
        ({"capacity": None}, "capacity"),
        ({"price": -1}, "price"),
        ({"price": 1.234}, "price"),
        ({"image_url": "ftp://example.com/x.png"}, "image_url"),
        ({"max_per_order": 101}, "max_per_order"),
        ({"rating": "x" * 11}, "rating"),
        ({"name": "   "}, "name"),
        ({"name": None}, "name"),
        ({"description": "x" * 5001}, "description"),
        ({"remaining": 5}, "remaining"),
        ({"created_by": "00000000-0000-0000-0000-000000000000"}, "created_by"),
        ({"id": "00000000-0000-0000-0000-000000000000"}, "id"),
        ({"deleted_at": None}, "deleted_at"),
        ({"name": "ok", "created_at": "2030-01-01T00:00:00Z"}, "created_at"),
    ],
)
def test_invalid_patches_are_422(make_event, patch, sql, body, field):
    event = make_event()
    response = patch(event["id"], body)
    assert response.status_code == 422, response.json
    assert response.json["type"] == "/problems/validation-error"
    assert field in response.json["errors"]
    assert sql.value("SELECT name FROM events WHERE id = %s", (event["id"],)) == EVENT["name"]


def test_empty_patch_is_422(make_event, patch):
    response = patch(make_event()["id"], {})
    assert response.status_code == 422
    assert response.json["errors"]


def test_patch_needs_a_json_body(client, make_event, admin):
    url = f"/api/v1/events/{make_event()['id']}"
    as_text = client.patch(url, data="name=x", content_type="text/plain", headers=admin["headers"])
    assert as_text.status_code == 415
    broken = client.patch(url, data="{", content_type="application/json", headers=admin["headers"])
    assert broken.status_code == 400


def test_patch_unknown_or_deleted_event_is_404(make_event, patch, sql):
    for event_id in (str(uuid.uuid4()), "not-a-uuid"):
        assert patch(event_id, {"name": "x"}).status_code == 404
    event = make_event()
    sql.all("UPDATE events SET deleted_at = now() WHERE id = %s", (event["id"],))
    response = patch(event["id"], {"capacity": 1})
    assert response.status_code == 404 and response.json["type"] == "/problems/not-found"


def test_only_admins_patch(make_event, patch, buyer):
    event = make_event()
    assert patch(event["id"], {"name": "x"}, headers=buyer["headers"]).status_code == 403
    assert patch(event["id"], {"name": "x"}, headers={}).status_code == 401


# ------------------------------------------------------------------ DELETE


def test_deleted_event_disappears(client, make_event, admin, sql):
    event = make_event()
    kept = make_event(name="Kept")
    response = client.delete(f"/api/v1/events/{event['id']}", headers=admin["headers"])
    assert response.status_code == 204 and response.data == b""
    assert stored(sql, event["id"])["deleted_at"] is not None

    assert client.get(f"/api/v1/events/{event['id']}").status_code == 404
    for query in ("", "?include_past=true"):
        listed = client.get(f"/api/v1/events{query}")
        assert [e["id"] for e in listed.json] == [kept["id"]]
        assert json.loads(listed.headers["X-Pagination"])["total"] == 1
    mine = client.get("/api/v1/me/events", headers=admin["headers"]).json
    assert [e["id"] for e in mine] == [kept["id"]]


def test_deleting_twice_or_unknown_is_404(client, make_event, admin):
    event = make_event()
    assert client.delete(f"/api/v1/events/{event['id']}", headers=admin["headers"]).status_code == 204
    again = client.delete(f"/api/v1/events/{event['id']}", headers=admin["headers"])
    assert again.status_code == 404 and again.json["type"] == "/problems/not-found"
    assert client.delete(f"/api/v1/events/{uuid.uuid4()}", headers=admin["headers"]).status_code == 404


def test_only_admins_delete(client, make_event, buyer, sql):
    event = make_event()
    assert client.delete(f"/api/v1/events/{event['id']}", headers=buyer["headers"]).status_code == 403
    assert client.delete(f"/api/v1/events/{event['id']}").status_code == 401
    assert stored(sql, event["id"])["deleted_at"] is None


def test_deleted_event_cannot_be_bought(client, make_event, admin, buy, sql):
    event = make_event()
    client.delete(f"/api/v1/events/{event['id']}", headers=admin["headers"])
    response = buy(event["id"], 1)
    assert response.status_code == 404 and response.json["type"] == "/problems/not-found"
    assert stored(sql, event["id"])["remaining"] == event["capacity"]


def test_orders_of_a_deleted_event_stay_readable_and_settle(
    client, make_event, admin, buyer, buy, settle, sql
):
    event = make_event(capacity=10)
    paid = buy(event["id"], 2).json
    rejected = buy(event["id"], 3).json
    assert client.delete(f"/api/v1/events/{event['id']}", headers=admin["headers"]).status_code == 204

    own = client.get(f"/api/v1/orders/{paid['id']}", headers=buyer["headers"])
    assert own.status_code == 200
    assert own.json["event"] == {"id": event["id"], "name": event["name"], "date": event["date"]}
    listed = client.get("/api/v1/orders", headers=buyer["headers"]).json
    assert {o["id"] for o in listed} == {paid["id"], rejected["id"]}

    assert settle(paid["id"], "PAID").status_code == 204
    assert settle(rejected["id"], "REJECTED").status_code == 204
    after = client.get(f"/api/v1/orders/{paid['id']}", headers=buyer["headers"]).json
    assert after["status"] == "PAID" and {t["status"] for t in after["tickets"]} == {"VALID"}
    assert stored(sql, event["id"])["remaining"] == 8  # the rejected 3 went back to the row
    assert_books_balance(sql)


# ------------------------------------------------------------------ include_deleted and restore


def test_admins_list_deleted_events(client, make_event, admin):
    live = make_event(name="Live", date="2030-01-01T00:00:00Z")
    gone = make_event(name="Gone", date="2030-02-01T00:00:00Z")
    client.delete(f"/api/v1/events/{gone['id']}", headers=admin["headers"])

    response = client.get("/api/v1/events?include_deleted=true", headers=admin["headers"])
    assert response.status_code == 200
    assert [e["id"] for e in response.json] == [live["id"], gone["id"]]
    assert "deleted_at" not in response.json[0]
    assert response.json[1]["deleted_at"].endswith("Z")
    assert json.loads(response.headers["X-Pagination"])["total"] == 2


def test_include_deleted_is_for_admins_only(client, make_event, buyer):
    make_event()
    as_user = client.get("/api/v1/events?include_deleted=true", headers=buyer["headers"])
    assert as_user.status_code == 403 and as_user.json["type"] == "/problems/forbidden"
    anonymous = client.get("/api/v1/events?include_deleted=true")
    assert anonymous.status_code == 401 and anonymous.json["type"] == "/problems/unauthorized"
    assert client.get("/api/v1/events?include_deleted=false").status_code == 200
    assert client.get("/api/v1/events?include_deleted=maybe").status_code == 422


def test_restore_brings_the_event_back(client, make_event, admin, buy):
    event = make_event()
    client.delete(f"/api/v1/events/{event['id']}", headers=admin["headers"])
    response = client.post(f"/api/v1/events/{event['id']}/restore", headers=admin["headers"])
    assert response.status_code == 200
    assert response.json == event
    assert client.get(f"/api/v1/events/{event['id']}").json == event
    assert [e["id"] for e in client.get("/api/v1/events").json] == [event["id"]]
    assert buy(event["id"], 1).status_code == 201


def test_restore_of_a_live_or_unknown_event_is_404(client, make_event, admin):
    event = make_event()
    for event_id in (event["id"], str(uuid.uuid4()), "not-a-uuid"):
        response = client.post(f"/api/v1/events/{event_id}/restore", headers=admin["headers"])
        assert response.status_code == 404 and response.json["type"] == "/problems/not-found"


def test_only_admins_restore(client, make_event, admin, buyer):
    event = make_event()
    client.delete(f"/api/v1/events/{event['id']}", headers=admin["headers"])
    assert client.post(f"/api/v1/events/{event['id']}/restore", headers=buyer["headers"]).status_code == 403
    assert client.post(f"/api/v1/events/{event['id']}/restore").status_code == 401
    assert client.get(f"/api/v1/events/{event['id']}").status_code == 404
