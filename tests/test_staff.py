"""Door staff: admins make an account `staff`; staff read tickets and check them in, and
every other admin operation refuses them (403), checked against the whole spec."""

import json
import re
import uuid

import pytest

from tests.support.problems import assert_problem

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(scope="module")
def spec(app):
    return json.loads(app.test_client().get("/api/v1/openapi.json").data)


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def concrete(path):
    return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)


def test_admins_make_door_staff(client, admin, buyer, make_event, order, sql):
    ticket_id = order(make_event()["id"])["tickets"][0]["id"]
    check_in = f"/api/v1/tickets/{ticket_id}/check-in"
    assert_problem(client.post(check_in, headers=buyer["headers"]), 403, "forbidden")

    promoted = client.patch(f"/api/v1/users/{buyer['id']}", json={"role": "staff"}, headers=admin["headers"])
    assert promoted.status_code == 200 and promoted.json["role"] == "staff"
    # The same token, at once: the role is read from the database on every request.
    assert client.post(check_in, headers=buyer["headers"]).status_code == 200
    assert client.get("/api/v1/users?role=staff", headers=admin["headers"]).json[0]["id"] == buyer["id"]
    assert client.get("/api/v1/me", headers=buyer["headers"]).json["role"] == "staff"

    demoted = client.patch(f"/api/v1/users/{buyer['id']}", json={"role": "user"}, headers=admin["headers"])
    assert demoted.json["role"] == "user"
    assert_problem(client.post(check_in, headers=buyer["headers"]), 403, "forbidden")


def test_roles_are_checked_by_the_database(client, admin, sql):
    with pytest.raises(Exception, match="users_role_check"):
        sql.all("UPDATE users SET role = 'door' WHERE id = %s", (admin["id"],))
    response = client.patch(f"/api/v1/users/{admin['id']}", json={"role": "door"}, headers=admin["headers"])
    assert_problem(response, 422, "validation-error")


def test_nobody_makes_themselves_staff(client, buyer):
    response = client.patch("/api/v1/me", json={"role": "staff"}, headers=buyer["headers"])
    assert_problem(response, 422, "validation-error")
    signup = client.post(
        "/api/v1/signup",
        json={"name": "S", "email": "s@example.com", "password": "password123", "role": "staff"},
    )
    assert_problem(signup, 422, "validation-error")


def test_every_operation_declares_its_roles(spec):
    """An operation that can answer 403 for a role names the roles it allows (`x-roles`);
    GET /events is the exception: only its include_deleted option is for admins."""
    for path, method, operation in operations(spec):
        roles = operation.get("x-roles")
        if roles is not None:
            assert set(roles) <= {"staff", "admin"} and "403" in operation["responses"], (method, path)
        elif "/problems/forbidden" in json.dumps(operation["responses"].get("403", {})):
            assert (method, path) == ("get", "/api/v1/events"), (method, path)
    door = {(m, p) for p, m, op in operations(spec) if op.get("x-roles") == ["staff", "admin"]}
    assert door == {
        ("post", "/api/v1/tickets/{ticket_id}/check-in"),
        ("post", "/api/v1/check-ins"),
        ("get", "/api/v1/events/{event_id}/revoked-codes"),
    }


def test_staff_are_refused_on_every_admin_operation(client, spec, staff):
    refused = []
    for path, method, operation in operations(spec):
        if operation.get("x-roles") != ["admin"]:
            continue
        response = client.open(concrete(path), method=method.upper(), json={}, headers=staff["headers"])
        assert_problem(response, 403, "forbidden")
        refused.append(f"{method.upper()} {path}")
    deleted = client.get("/api/v1/events?include_deleted=true", headers=staff["headers"])
    assert_problem(deleted, 403, "forbidden")
    # Every admin area: accounts, events, images, stats.
    assert {"GET /api/v1/users", "PATCH /api/v1/users/{user_id}", "POST /api/v1/events"} <= set(refused)
    assert (
        "GET /api/v1/events/{event_id}/stats" in refused and "POST /api/v1/events/{event_id}/image" in refused
    )
    assert len(refused) >= 9


def test_staff_read_any_ticket_but_no_order(client, staff, make_event, order, buyer):
    paid = order(make_event()["id"])
    ticket_id = paid["tickets"][0]["id"]
    seen = client.get(f"/api/v1/tickets/{ticket_id}", headers=staff["headers"])
    assert seen.status_code == 200 and seen.json["holder_id"] == buyer["id"] and seen.json["code"]
    assert_problem(client.get(f"/api/v1/orders/{paid['id']}", headers=staff["headers"]), 404, "not-found")
    assert_problem(client.get(f"/api/v1/tickets/{uuid.uuid4()}", headers=staff["headers"]), 404, "not-found")
