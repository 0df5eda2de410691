"""Ticket types (docs/ticket-types.md): several kinds of ticket per event, each with its own
price, capacity and max_per_order, under the event's overall cap."""

import uuid

import pytest

from tests.support.books import assert_books_balance, remaining, type_remaining
from tests.support.samples import EVENT, WEBHOOK
from ticketing.orders.expiry import expire_due_orders
from ticketing.orders.idempotency import request_hash

TYPES = [
    {"name": "General", "price": "100.00", "capacity": 80},
    {"name": "VIP", "price": "250.00", "capacity": 20, "max_per_order": 2},
    {"name": "Student", "price": 50, "capacity": 30},
]


@pytest.fixture
def typed_event(make_event):
    def create(types=TYPES, **fields):
        return make_event(ticket_types=types, price=types[0]["price"], **fields)

    return create


@pytest.fixture
def buy_type(client, buyer):
    def purchase(event_id, type_id=None, quantity=1, user=None, key=None):
        headers = dict((user or buyer)["headers"])
        if key is not None:
            headers["Idempotency-Key"] = key
        body = {"event_id": event_id, "quantity": quantity}
        if type_id is not None:
            body["ticket_type_id"] = type_id
        return client.post("/api/v1/orders", json=body, headers=headers)

    return purchase


def types_by_name(event):
    return {t["name"]: t for t in event["ticket_types"]}


def url(event, type_id=None):
    base = f"/api/v1/events/{event['id']}/ticket-types"
    return base if type_id is None else f"{base}/{type_id}"


# ------------------------------------------------------------------ publishing


def test_an_event_lists_its_types_first_one_first(client, typed_event):
    event = typed_event()
    assert [t["name"] for t in event["ticket_types"]] == ["General", "VIP", "Student"]
    vip = types_by_name(event)["VIP"]
    assert vip["price"] == "250.00" and vip["capacity"] == vip["remaining"] == 20
    assert vip["max_per_order"] == 2
    assert types_by_name(event)["Student"]["max_per_order"] == 10  # the event's
    # the event's price is its first type's; its capacity the venue's cap
    assert event["price"] == "100.00" and event["capacity"] == event["remaining"] == 100
    assert client.get(f"/api/v1/events/{event['id']}").json["ticket_types"] == event["ticket_types"]
    [listed] = [e for e in client.get("/api/v1/events").json if e["id"] == event["id"]]
    assert listed["ticket_types"] == event["ticket_types"]


def test_price_may_be_omitted_with_types_but_must_match_the_first(client, admin):
    body = {k: v for k, v in EVENT.items() if k != "price"}
    response = client.post("/api/v1/events", json={**body, "ticket_types": TYPES}, headers=admin["headers"])
    assert response.status_code == 201 and response.json["price"] == "100.00"
    mismatch = client.post(
        "/api/v1/events", json={**EVENT, "price": 90, "ticket_types": TYPES}, headers=admin["headers"]
    )
    assert mismatch.status_code == 422 and "price" in mismatch.json["errors"]
    missing = client.post("/api/v1/events", json=body, headers=admin["headers"])
    assert missing.status_code == 422 and "price" in missing.json["errors"]


@pytest.mark.parametrize(
    "types",
    [
        [],
        [{"name": f"T{n}", "price": 1, "capacity": 1} for n in range(21)],
        [{"name": "Same", "price": 1, "capacity": 1}, {"name": "Same", "price": 2, "capacity": 1}],
        [{"name": "", "price": 1, "capacity": 1}],
        [{"name": "X", "price": -1, "capacity": 1}],
        [{"name": "X", "price": 1, "capacity": -1}],
        [{"name": "X", "price": 1, "capacity": 1, "max_per_order": 101}],
        [{"name": "X", "price": 1, "capacity": 1, "color": "red"}],
        [{"price": 1, "capacity": 1}],
        "General",
    ],
)
def test_invalid_types_are_422(client, admin, types):
    response = client.post("/api/v1/events", json={**EVENT, "ticket_types": types}, headers=admin["headers"])
    assert response.status_code == 422, response.json
    assert response.json["type"] == "/problems/validation-error"
    assert "ticket_types" in response.json["errors"]


def test_twenty_types_are_allowed(typed_event):
    event = typed_event([{"name": f"T{n}", "price": n, "capacity": 5} for n in range(20)])
    assert len(event["ticket_types"]) == 20 and event["price"] == "0.00"


def test_types_are_not_edited_through_the_event_patch(client, admin, typed_event):
    event = typed_event()
    response = client.patch(
        f"/api/v1/events/{event['id']}", json={"ticket_types": TYPES}, headers=admin["headers"]
    )
    assert response.status_code == 422


# ------------------------------------------------------------------ buying


def test_buying_a_type_takes_from_the_type_and_the_event(client, typed_event, buy_type, buyer, sql):
    event = typed_event()
    vip = types_by_name(event)["VIP"]
    response = buy_type(event["id"], vip["id"], 2)
    assert response.status_code == 201, response.json
    order = response.json
    assert order["ticket_type_id"] == vip["id"] and order["ticket_type_name"] == "VIP"
    assert order["unit_price"] == "250.00" and order["total_amount"] == "500.00"
    assert {t["price"] for t in order["tickets"]} == {"250.00"}
    assert type_remaining(sql, vip["id"]) == 18 and remaining(sql, event["id"]) == 98
    shown = client.get(f"/api/v1/events/{event['id']}").json
    assert types_by_name(shown)["VIP"]["remaining"] == 18 and shown["remaining"] == 98
    # every read of the order and its tickets names the type
    got = client.get(f"/api/v1/orders/{order['id']}", headers=buyer["headers"]).json
    assert got["ticket_type_id"] == vip["id"] and got["ticket_type_name"] == "VIP"
    [listed] = client.get("/api/v1/orders", headers=buyer["headers"]).json
    assert listed["ticket_type_id"] == vip["id"] and listed["ticket_type_name"] == "VIP"
    ticket = client.get(f"/api/v1/tickets/{order['tickets'][0]['id']}", headers=buyer["headers"]).json
    assert ticket["ticket_type_id"] == vip["id"] and ticket["ticket_type_name"] == "VIP"
    assert_books_balance(sql)


def test_without_a_type_the_first_is_bought(typed_event, buy_type, sql):
    event = typed_event()
    general = types_by_name(event)["General"]
    order = buy_type(event["id"]).json
    assert order["ticket_type_id"] == general["id"] and order["unit_price"] == "100.00"
    assert type_remaining(sql, general["id"]) == 79


def test_my_tickets_name_their_type(client, typed_event, buy_type, buyer, settle):
    event = typed_event()
    student = types_by_name(event)["Student"]
    order = buy_type(event["id"], student["id"]).json
    assert settle(order["id"], "PAID").status_code == 204
    [ticket] = client.get("/api/v1/me/tickets", headers=buyer["headers"]).json
    assert ticket["ticket_type_id"] == student["id"] and ticket["ticket_type_name"] == "Student"
    assert ticket["price"] == "50.00"


def test_a_type_of_another_event_or_unknown_is_404(typed_event, buy_type, sql):
    event, other = typed_event(), typed_event()
    for type_id in (types_by_name(other)["VIP"]["id"], str(uuid.uuid4())):
        response = buy_type(event["id"], type_id)
        assert response.status_code == 404
        assert response.json["type"] == "/problems/not-found"
        assert "ticket type" in response.json["detail"]
    assert remaining(sql, event["id"]) == 100 and remaining(sql, other["id"]) == 100


def test_sold_out_of_the_type_says_what_is_left_of_it(typed_event, buy_type, sql):
    event = typed_event()
    vip = types_by_name(event)["VIP"]
    for _ in range(9):
        assert buy_type(event["id"], vip["id"], 2).status_code == 201
    response = buy_type(event["id"], vip["id"], 2)
    assert response.status_code == 201
    response = buy_type(event["id"], vip["id"], 1)
    assert response.status_code == 409 and response.json["type"] == "/problems/sold-out"
    assert response.json["remaining"] == 0 and "VIP" in response.json["detail"]
    # the other types and the event still sell
    assert buy_type(event["id"], types_by_name(event)["Student"]["id"]).status_code == 201
    assert remaining(sql, event["id"]) == 79
    assert_books_balance(sql)


def test_sold_out_of_the_event_says_what_is_left_of_it(typed_event, buy_type, sql):
    # type capacities add up to 130, the venue holds 10: a shared pool
    event = typed_event(capacity=10)
    general, student = types_by_name(event)["General"], types_by_name(event)["Student"]
    assert buy_type(event["id"], general["id"], 9).status_code == 201
    response = buy_type(event["id"], student["id"], 2)
    assert response.status_code == 409 and response.json["type"] == "/problems/sold-out"
    assert response.json["remaining"] == 1 and "for this event" in response.json["detail"]
    assert type_remaining(sql, student["id"]) == 30  # untouched
    assert buy_type(event["id"], student["id"], 1).status_code == 201
    assert remaining(sql, event["id"]) == 0
    assert_books_balance(sql)


def test_the_types_max_per_order_is_422(typed_event, buy_type):
    event = typed_event()
    response = buy_type(event["id"], types_by_name(event)["VIP"]["id"], 3)
    assert response.status_code == 422 and "At most 2" in response.json["errors"]["quantity"][0]


def test_the_idempotency_hash_covers_the_type(typed_event, buy_type, sql):
    event = typed_event()
    general, vip = types_by_name(event)["General"], types_by_name(event)["VIP"]
    first = buy_type(event["id"], vip["id"], key="k-1")
    assert first.status_code == 201
    again = buy_type(event["id"], vip["id"], key="k-1")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json["id"] == first.json["id"]
    other = buy_type(event["id"], general["id"], key="k-1")
    assert other.status_code == 422 and other.json["type"] == "/problems/idempotency-key-reused"
    # no type given: the hash is the one stored before ticket types existed
    untyped = buy_type(event["id"], key="k-2")
    assert untyped.status_code == 201
    stored = sql.value("SELECT request_hash FROM idempotency_keys WHERE key = 'k-2'")
    assert stored == request_hash(event["id"], 1)
    assert request_hash(event["id"], 1) != request_hash(event["id"], 1, general["id"])
    assert type_remaining(sql, vip["id"]) == 19


# ------------------------------------------------------------------ capacity comes back


def test_cancel_returns_capacity_to_the_type(client, typed_event, buy_type, buyer, sql):
    event = typed_event()
    vip = types_by_name(event)["VIP"]
    order = buy_type(event["id"], vip["id"], 2).json
    cancelled = client.post(f"/api/v1/orders/{order['id']}/cancel", headers=buyer["headers"])
    assert cancelled.status_code == 200
    assert type_remaining(sql, vip["id"]) == 20 and remaining(sql, event["id"]) == 100
    assert_books_balance(sql)


def test_rejection_and_expiry_return_capacity_to_the_type(app, typed_event, buy_type, settle, sql):
    event = typed_event()
    vip, student = types_by_name(event)["VIP"], types_by_name(event)["Student"]
    rejected = buy_type(event["id"], vip["id"], 2).json
    assert settle(rejected["id"], "REJECTED").status_code == 204
    expiring = [buy_type(event["id"], t["id"], 2).json for t in (vip, student)]
    sql.all(
        "UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = ANY(%s::uuid[])",
        ([o["id"] for o in expiring],),
    )
    with app.app_context():
        assert expire_due_orders() == 2
    assert type_remaining(sql, vip["id"]) == 20 and type_remaining(sql, student["id"]) == 30
    assert remaining(sql, event["id"]) == 100
    assert_books_balance(sql)


def test_refund_returns_capacity_to_the_type(client, admin, typed_event, buy_type, settle, sql):
    event = typed_event()
    vip = types_by_name(event)["VIP"]
    order = buy_type(event["id"], vip["id"], 2).json
    assert settle(order["id"], "PAID").status_code == 204
    response = client.post(f"/api/v1/orders/{order['id']}/refund", json={}, headers=admin["headers"])
    assert response.status_code == 200, response.json
    assert type_remaining(sql, vip["id"]) == 20 and remaining(sql, event["id"]) == 100
    assert_books_balance(sql)


def expire(app, sql, order_id):
    sql.all("UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = %s", (order_id,))
    with app.app_context():
        assert expire_due_orders() == 1


def test_a_late_payment_re_reserves_the_type(app, client, typed_event, buy_type, sql):
    event = typed_event()
    vip = types_by_name(event)["VIP"]
    order = buy_type(event["id"], vip["id"], 2).json
    expire(app, sql, order["id"])
    paid = client.post(f"/api/v1/orders/{order['id']}/status", json={"status": "PAID"}, headers=WEBHOOK)
    assert paid.status_code == 204
    assert sql.value("SELECT status FROM orders WHERE id = %s", (order["id"],)) == "PAID"
    assert type_remaining(sql, vip["id"]) == 18 and remaining(sql, event["id"]) == 98
    assert_books_balance(sql)


def test_a_late_payment_is_not_honoured_when_its_type_sold_out(
    app, client, admin, typed_event, buy_type, sql, users
):
    event = typed_event()
    vip = types_by_name(event)["VIP"]
    order = buy_type(event["id"], vip["id"], 2).json
    expire(app, sql, order["id"])
    # the type sells out meanwhile (the event itself has plenty left)
    patched = client.patch(url(event, vip["id"]), json={"capacity": 1}, headers=admin["headers"])
    assert patched.status_code == 200 and patched.json["remaining"] == 1
    assert buy_type(event["id"], vip["id"], 1, user=users.create()).status_code == 201
    paid = client.post(f"/api/v1/orders/{order['id']}/status", json={"status": "PAID"}, headers=WEBHOOK)
    assert paid.status_code == 409 and paid.json["type"] == "/problems/payment-after-expiry"
    assert sql.value("SELECT status FROM orders WHERE id = %s", (order["id"],)) == "EXPIRED"
    assert type_remaining(sql, vip["id"]) == 0 and remaining(sql, event["id"]) == 99
    assert_books_balance(sql)


# ------------------------------------------------------------------ admin: add, edit, delete


def test_admin_adds_a_type(client, admin, make_event, buy_type, sql):
    event = make_event()
    response = client.post(
        url(event), json={"name": "VIP", "price": "300", "capacity": 5}, headers=admin["headers"]
    )
    assert response.status_code == 201, response.json
    vip = response.json
    assert vip["name"] == "VIP" and vip["price"] == "300.00" and vip["remaining"] == 5
    assert vip["max_per_order"] == 10
    shown = client.get(f"/api/v1/events/{event['id']}").json
    assert [t["name"] for t in shown["ticket_types"]] == ["General", "VIP"]
    assert shown["price"] == "100.00"  # still the first type's
    assert buy_type(event["id"], vip["id"], 5).status_code == 201
    assert_books_balance(sql)


def test_adding_a_taken_name_or_a_21st_type_is_409(client, admin, typed_event):
    event = typed_event()
    taken = client.post(url(event), json={"name": "VIP", "price": 1, "capacity": 1}, headers=admin["headers"])
    assert taken.status_code == 409 and taken.json["type"] == "/problems/ticket-type-name-taken"
    full = typed_event([{"name": f"T{n}", "price": 1, "capacity": 1} for n in range(20)])
    response = client.post(
        url(full), json={"name": "One more", "price": 1, "capacity": 1}, headers=admin["headers"]
    )
    assert response.status_code == 409 and response.json["type"] == "/problems/too-many-ticket-types"
    unknown = client.post(
        f"/api/v1/events/{uuid.uuid4()}/ticket-types",
        json={"name": "X", "price": 1, "capacity": 1},
        headers=admin["headers"],
    )
    assert unknown.status_code == 404


def test_patching_a_types_capacity_moves_remaining_not_below_sold(client, admin, typed_event, buy_type, sql):
    event = typed_event()
    vip = types_by_name(event)["VIP"]
    assert buy_type(event["id"], vip["id"], 2).status_code == 201
    grown = client.patch(url(event, vip["id"]), json={"capacity": 30}, headers=admin["headers"])
    assert grown.status_code == 200 and grown.json["capacity"] == 30 and grown.json["remaining"] == 28
    below = client.patch(url(event, vip["id"]), json={"capacity": 1}, headers=admin["headers"])
    assert below.status_code == 409 and below.json["type"] == "/problems/capacity-below-sold"
    assert below.json["sold"] == 2
    exact = client.patch(url(event, vip["id"]), json={"capacity": 2}, headers=admin["headers"])
    assert exact.status_code == 200 and exact.json["remaining"] == 0
    assert remaining(sql, event["id"]) == 98  # the event's own numbers are untouched
    assert_books_balance(sql)


def test_patching_a_type_name_price_and_limit(client, admin, typed_event):
    event = typed_event()
    vip = types_by_name(event)["VIP"]
    response = client.patch(
        url(event, vip["id"]),
        json={"name": "Gold", "price": "199.90", "max_per_order": 4},
        headers=admin["headers"],
    )
    assert response.status_code == 200
    assert response.json == {**vip, "name": "Gold", "price": "199.90", "max_per_order": 4}
    assert client.get(f"/api/v1/events/{event['id']}").json["price"] == "100.00"  # not the first type
    taken = client.patch(url(event, vip["id"]), json={"name": "General"}, headers=admin["headers"])
    assert taken.status_code == 409 and taken.json["type"] == "/problems/ticket-type-name-taken"
    back = client.patch(url(event, vip["id"]), json={"max_per_order": None}, headers=admin["headers"])
    assert back.status_code == 200 and back.json["max_per_order"] == 10  # the event's
    empty = client.patch(url(event, vip["id"]), json={}, headers=admin["headers"])
    assert empty.status_code == 422
    other = typed_event()
    wrong_event = client.patch(url(other, vip["id"]), json={"price": 1}, headers=admin["headers"])
    assert wrong_event.status_code == 404


def test_the_first_types_price_is_the_events(client, admin, typed_event):
    event = typed_event()
    general = types_by_name(event)["General"]
    assert (
        client.patch(url(event, general["id"]), json={"price": 120}, headers=admin["headers"]).status_code
        == 200
    )
    assert client.get(f"/api/v1/events/{event['id']}").json["price"] == "120.00"
    # and an event price edit is the first type's new price (the others keep theirs)
    patched = client.patch(f"/api/v1/events/{event['id']}", json={"price": 130}, headers=admin["headers"])
    assert patched.status_code == 200 and patched.json["price"] == "130.00"
    prices = {t["name"]: t["price"] for t in patched.json["ticket_types"]}
    assert prices == {"General": "130.00", "VIP": "250.00", "Student": "50.00"}
    # with several types, an event capacity edit is the venue's cap only
    grown = client.patch(f"/api/v1/events/{event['id']}", json={"capacity": 150}, headers=admin["headers"])
    assert grown.json["capacity"] == 150
    assert [t["capacity"] for t in grown.json["ticket_types"]] == [80, 20, 30]


def test_a_single_types_capacity_follows_the_event(client, admin, make_event, buy, sql):
    event = make_event(capacity=10)
    assert buy(event["id"], 3).status_code == 201
    grown = client.patch(f"/api/v1/events/{event['id']}", json={"capacity": 20}, headers=admin["headers"])
    assert grown.status_code == 200
    [general] = grown.json["ticket_types"]
    assert general["capacity"] == 20 and general["remaining"] == 17 and grown.json["remaining"] == 17
    below = client.patch(f"/api/v1/events/{event['id']}", json={"capacity": 2}, headers=admin["headers"])
    assert below.status_code == 409 and below.json["sold"] == 3
    assert_books_balance(sql)


def test_deleting_a_type(client, admin, typed_event, buy_type, sql):
    event = typed_event()
    general, vip, student = (types_by_name(event)[n] for n in ("General", "VIP", "Student"))
    # ever ordered (even if cancelled since): in use
    order = buy_type(event["id"], vip["id"]).json
    client.post(f"/api/v1/orders/{order['id']}/cancel", headers=admin["headers"])
    in_use = client.delete(url(event, vip["id"]), headers=admin["headers"])
    assert in_use.status_code == 409 and in_use.json["type"] == "/problems/ticket-type-in-use"
    assert in_use.json["orders"] == 1
    # the first type goes: the next one is the default, and sets the event's price
    assert client.delete(url(event, general["id"]), headers=admin["headers"]).status_code == 204
    shown = client.get(f"/api/v1/events/{event['id']}").json
    assert [t["name"] for t in shown["ticket_types"]] == ["VIP", "Student"]
    assert shown["price"] == "250.00"
    assert client.delete(url(event, general["id"]), headers=admin["headers"]).status_code == 404
    assert client.delete(url(event, student["id"]), headers=admin["headers"]).status_code == 204
    last = client.delete(url(event, vip["id"]), headers=admin["headers"])
    assert last.status_code == 409  # in use, and the last one anyway
    lone = typed_event([{"name": "Only", "price": 1, "capacity": 1}])
    only = lone["ticket_types"][0]
    response = client.delete(url(lone, only["id"]), headers=admin["headers"])
    assert response.status_code == 409 and response.json["type"] == "/problems/last-ticket-type"
    assert_books_balance(sql)


def test_type_admin_is_for_admins(client, buyer, staff, typed_event):
    event = typed_event()
    vip = types_by_name(event)["VIP"]
    for who in (buyer, staff):
        headers = who["headers"]
        assert (
            client.post(
                url(event), json={"name": "X", "price": 1, "capacity": 1}, headers=headers
            ).status_code
            == 403
        )
        assert client.patch(url(event, vip["id"]), json={"price": 1}, headers=headers).status_code == 403
        assert client.delete(url(event, vip["id"]), headers=headers).status_code == 403
    assert client.delete(url(event, vip["id"])).status_code == 401


# ------------------------------------------------------------------ stats


def test_stats_break_down_per_type(client, admin, typed_event, buy_type, settle):
    event = typed_event()
    vip, student = types_by_name(event)["VIP"], types_by_name(event)["Student"]
    paid = buy_type(event["id"], vip["id"], 2).json
    assert settle(paid["id"], "PAID").status_code == 204
    buy_type(event["id"], student["id"], 3)
    stats = client.get(f"/api/v1/events/{event['id']}/stats", headers=admin["headers"]).json
    assert stats["sold"] == 5 and stats["paid"] == 2 and stats["pending"] == 3
    by_name = {t["name"]: t for t in stats["ticket_types"]}
    assert [t["name"] for t in stats["ticket_types"]] == ["General", "VIP", "Student"]
    assert by_name["VIP"] == {
        "ticket_type_id": vip["id"],
        "name": "VIP",
        "capacity": 20,
        "remaining": 18,
        "sold": 2,
        "pending": 0,
        "paid": 2,
        "checked_in": 0,
        "cancelled": 0,
    }
    assert by_name["Student"]["pending"] == 3 and by_name["General"]["sold"] == 0
