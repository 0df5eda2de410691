import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.support.samples import EVENT


def test_admin_creates_an_event(client, admin):
    response = client.post("/api/v1/events", json=EVENT, headers=admin["headers"])
    assert response.status_code == 201
    body = response.json
    assert body["remaining"] == body["capacity"] == 100
    assert body["price"] == "100.00"
    assert body["currency"] == "BRL"  # DEFAULT_CURRENCY
    assert body["max_per_order"] == 10
    assert body["created_by"] == admin["id"]
    assert body["date"] == "2030-10-10T00:00:00Z"
    for field in ("name", "location", "organization", "rating", "image_url", "description"):
        assert body[field] == EVENT[field]
    assert set(body) == {
        "id",
        "name",
        "location",
        "organization",
        "rating",
        "date",
        "capacity",
        "remaining",
        "price",
        "currency",
        "image_url",
        "description",
        "max_per_order",
        "sale_starts_at",
        "max_per_user",
        "queue",
        "ticket_types",
        "created_by",
        "created_at",
    }
    assert body["sale_starts_at"] is None and body["max_per_user"] is None and body["queue"] is None
    # no ticket_types given: one "General" type with the event's numbers
    [general] = body["ticket_types"]
    assert general.pop("id")
    assert general == {
        "name": "General",
        "price": "100.00",
        "capacity": 100,
        "remaining": 100,
        "max_per_order": 10,
    }


def test_optional_fields_and_exact_money(client, admin):
    body = {k: v for k, v in EVENT.items() if k not in ("image_url", "description")}
    response = client.post(
        "/api/v1/events",
        json={**body, "price": "0.10", "max_per_order": 4, "date": "2031-01-01T10:00:00-03:00"},
        headers=admin["headers"],
    )
    assert response.status_code == 201
    assert response.json["price"] == "0.10"
    assert response.json["image_url"] is None and response.json["description"] is None
    assert response.json["max_per_order"] == 4
    assert response.json["date"] == "2031-01-01T13:00:00Z"


def test_any_rfc_3339_offset_is_accepted(client, admin):
    """RFC 3339 allows offsets up to 23:59; PostgreSQL only takes up to 15:59."""
    response = client.post(
        "/api/v1/events", json={**EVENT, "date": "2031-01-01T20:00:00+17:47"}, headers=admin["headers"]
    )
    assert response.status_code == 201, response.json
    assert response.json["date"] == "2031-01-01T02:13:00Z"


def test_float_prices_are_read_exactly(client, admin):
    raw = json.dumps({**EVENT, "price": 19.99})
    response = client.post(
        "/api/v1/events", data=raw, content_type="application/json", headers=admin["headers"]
    )
    assert response.json["price"] == "19.99"


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"date": "2020-01-01T00:00:00Z"}, "date"),
        ({"date": "2030-01-01T00:00:00"}, "date"),  # no offset
        ({"date": "tomorrow"}, "date"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": 1_000_001}, "capacity"),
        ({"capacity": "10"}, "capacity"),
        ({"capacity": 10.5}, "capacity"),
        ({"capacity": True}, "capacity"),
        ({"price": -1}, "price"),
        ({"price": 1.234}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": True}, "price"),
        ({"price": "1e3"}, "price"),
        ({"price": 1e20}, "price"),
        ({"price": " 1.00"}, "price"),  # the documented pattern: digits, no spaces
        ({"price": "\u0661\u0660"}, "price"),  # non-ASCII digits ("10" in Arabic-Indic)
        ({"date": "9999-12-31T23:00:00-14:00"}, "date"),  # the year 10000 in UTC
        ({"image_url": "ftp://example.com/x.png"}, "image_url"),
        ({"image_url": "javascript:alert(1)"}, "image_url"),
        ({"max_per_order": 0}, "max_per_order"),
        ({"max_per_order": 101}, "max_per_order"),
        ({"rating": "x" * 11}, "rating"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"rating": " " + "x" * 10}, "rating"),  # the length limit holds as sent, too
        ({"description": "x" * 5001}, "description"),
        ({"remaining": 5}, "remaining"),
        ({"created_by": "00000000-0000-0000-0000-000000000000"}, "created_by"),
    ],
)
def test_invalid_events_are_422(client, admin, changes, field):
    response = client.post("/api/v1/events", json={**EVENT, **changes}, headers=admin["headers"])
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]


def test_missing_fields_are_422(client, admin):
    response = client.post("/api/v1/events", json={}, headers=admin["headers"])
    assert response.status_code == 422
    assert {"name", "location", "organization", "rating", "date", "capacity", "price"} <= set(
        response.json["errors"]
    )


def test_users_cannot_create_events(client, buyer):
    assert client.post("/api/v1/events", json=EVENT, headers=buyer["headers"]).status_code == 403
    assert client.post("/api/v1/events", json=EVENT).status_code == 401


def test_get_event(client, make_event):
    event = make_event()
    response = client.get(f"/api/v1/events/{event['id']}")
    assert response.status_code == 200
    assert response.json == event


@pytest.mark.parametrize("event_id", ["00000000-0000-4000-8000-000000000000", "not-a-uuid", "123"])
def test_unknown_or_malformed_event_id_is_404(client, event_id):
    response = client.get(f"/api/v1/events/{event_id}")
    assert response.status_code == 404
    assert response.json["type"] == "/problems/not-found"


def test_list_upcoming_soonest_first(client, make_event, sql):
    later = make_event(name="Later", date="2031-01-01T00:00:00Z")
    sooner = make_event(name="Sooner", date="2030-06-01T00:00:00Z")
    past = make_event(name="Past")
    sql.all("UPDATE events SET date = now() - interval '1 day' WHERE id = %s", (past["id"],))

    response = client.get("/api/v1/events")
    assert response.status_code == 200
    assert [e["name"] for e in response.json] == ["Sooner", "Later"]
    assert json.loads(response.headers["X-Pagination"])["total"] == 2
    assert response.json[0]["remaining"] == sooner["remaining"]
    assert later["id"] in {e["id"] for e in response.json}

    with_past = client.get("/api/v1/events?include_past=true")
    assert [e["name"] for e in with_past.json] == ["Past", "Sooner", "Later"]


def test_list_is_paginated(client, make_event):
    for day in range(1, 6):
        make_event(name=f"Day {day}", date=f"2030-01-0{day}T00:00:00Z")
    page = client.get("/api/v1/events?page=2&page_size=2")
    assert [e["name"] for e in page.json] == ["Day 3", "Day 4"]
    meta = json.loads(page.headers["X-Pagination"])
    assert meta == {
        "total": 5,
        "total_pages": 3,
        "first_page": 1,
        "last_page": 3,
        "page": 2,
        "previous_page": 1,
        "next_page": 3,
    }
    beyond = client.get("/api/v1/events?page=9&page_size=2")
    assert beyond.json == [] and json.loads(beyond.headers["X-Pagination"])["total"] == 5
    far_beyond = client.get(f"/api/v1/events?page={2**62}&page_size=100")  # past SQL's integer
    assert far_beyond.status_code == 200 and far_beyond.json == []


@pytest.mark.parametrize("query", ["page_size=101", "page_size=0", "page=0", "page=x", "include_past=maybe"])
def test_bad_list_parameters_are_422(client, query):
    response = client.get(f"/api/v1/events?{query}")
    assert response.status_code == 422
    assert response.json["type"] == "/problems/validation-error"


def test_my_events(client, users, make_event, admin):
    mine = [make_event(name=f"Mine {i}") for i in range(3)]
    other_admin = users.create(role="admin")
    client.post("/api/v1/events", json=EVENT, headers=other_admin["headers"])
    response = client.get("/api/v1/me/events", headers=admin["headers"])
    assert response.status_code == 200
    assert [e["id"] for e in response.json] == [e["id"] for e in reversed(mine)]
    assert client.get("/api/v1/me/events").status_code == 401


def test_event_dates_near_now(client, admin):
    soon = (datetime.now(timezone.utc) + timedelta(minutes=5)).isoformat()
    response = client.post("/api/v1/events", json={**EVENT, "date": soon}, headers=admin["headers"])
    assert response.status_code == 201
