"""Editing users: PATCH /me, token revocation by password change, and the admin's
/users routes (list, read, edit, the last admin)."""

import json
import threading
import time
import uuid
from functools import partial

import jwt
import psycopg2
import pytest

from tests.support.api import login
from tests.support.books import remaining
from tests.support.concurrency import run_together
from tests.support.problems import problem_type
from tests.support.samples import EVENT, JWT_SECRET
from tests.support.timeouts import WAIT_TIMEOUT, wait_until
from ticketing import sql as named_sql

ME = "/api/v1/me"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def stored(sql, user):
    return sql.one(
        "SELECT name, email, role, password_hash, token_version, updated_at FROM users WHERE id = %s",
        (user["id"],),
    )


@pytest.fixture
def patch_me(client):
    def patch(user, headers=None, **body):
        return client.patch(ME, json=body, headers=headers or user["headers"])

    return patch


# ---------------------------------------------------------------- PATCH /me


def test_change_name_needs_no_password_and_keeps_tokens(client, patch_me, buyer, sql):
    before = stored(sql, buyer)
    response = patch_me(buyer, name="  Ana Maria  ")
    assert response.status_code == 200
    assert response.json["name"] == "Ana Maria"
    assert set(response.json) == {"id", "name", "email", "role", "created_at"}
    after = stored(sql, buyer)
    assert after["token_version"] == before["token_version"]
    assert after["updated_at"] > before["updated_at"]
    assert client.get(ME, headers=buyer["headers"]).status_code == 200


def test_change_email_with_current_password(client, patch_me, buyer):
    response = patch_me(buyer, email="  New.Address@Example.com ", current_password=buyer["password"])
    assert response.status_code == 200
    assert response.json["email"] == "New.Address@Example.com"
    assert login(client, "new.address@example.com", buyer["password"]).status_code == 200
    assert login(client, buyer["email"], buyer["password"]).status_code == 401
    # An email change is not a password change: the token still works.
    assert client.get(ME, headers=buyer["headers"]).status_code == 200


def test_change_email_to_its_own_other_case(patch_me, buyer):
    response = patch_me(buyer, email=buyer["email"].upper(), current_password=buyer["password"])
    assert response.status_code == 200
    assert response.json["email"] == buyer["email"].upper()


@pytest.mark.parametrize("change", [{"email": "new@example.com"}, {"password": "a new passphrase"}])
def test_sensitive_change_without_current_password_is_403(patch_me, buyer, sql, change):
    before = stored(sql, buyer)
    response = patch_me(buyer, **change)
    assert response.status_code == 403
    assert problem_type(response) == "/problems/current-password-required"
    assert stored(sql, buyer) == before


@pytest.mark.parametrize("change", [{"email": "new@example.com"}, {"password": "a new passphrase"}])
def test_sensitive_change_with_wrong_current_password_is_403(patch_me, buyer, sql, change):
    before = stored(sql, buyer)
    response = patch_me(buyer, **change, current_password="not-my-password")
    assert response.status_code == 403
    assert problem_type(response) == "/problems/wrong-current-password"
    assert stored(sql, buyer) == before


def test_email_taken_case_insensitively_is_409(patch_me, users, buyer, sql):
    other = users.create(email="taken@example.com")
    before = stored(sql, buyer)
    response = patch_me(buyer, email="TAKEN@Example.com", current_password=buyer["password"])
    assert response.status_code == 409
    assert problem_type(response) == "/problems/email-taken"
    assert stored(sql, buyer) == before
    assert stored(sql, other)["email"] == "taken@example.com"


def test_password_change_revokes_older_tokens(client, patch_me, buyer, sql):
    response = patch_me(buyer, password="a new passphrase", current_password=buyer["password"])
    assert response.status_code == 200
    assert response.json["id"] == buyer["id"]
    assert stored(sql, buyer)["token_version"] == 1

    old = client.get(ME, headers=buyer["headers"])
    assert old.status_code == 401
    assert problem_type(old) == "/problems/unauthorized"
    assert "revoked" in old.json["detail"]
    assert old.headers["WWW-Authenticate"] == "Bearer"

    assert login(client, buyer["email"], buyer["password"]).status_code == 401
    fresh = login(client, buyer["email"], "a new passphrase")
    assert fresh.status_code == 200
    token = fresh.json["token"]
    assert jwt.decode(token, JWT_SECRET, algorithms=["HS256"])["ver"] == 1
    me = client.get(ME, headers=bearer(token))
    assert me.status_code == 200 and me.json["id"] == buyer["id"]


def test_second_password_change_needs_the_new_password_and_revokes_again(client, patch_me, buyer, sql):
    patch_me(buyer, password="first new password", current_password=buyer["password"])
    token = login(client, buyer["email"], "first new password").json["token"]
    stale = patch_me(
        buyer, headers=bearer(token), password="second password", current_password=buyer["password"]
    )
    assert problem_type(stale) == "/problems/wrong-current-password"
    response = patch_me(
        buyer, headers=bearer(token), password="second password", current_password="first new password"
    )
    assert response.status_code == 200
    assert stored(sql, buyer)["token_version"] == 2
    assert client.get(ME, headers=bearer(token)).status_code == 401


def test_accepts_a_72_byte_password(client, patch_me, buyer):
    response = patch_me(buyer, password="é" * 36, current_password=buyer["password"])
    assert response.status_code == 200
    assert login(client, buyer["email"], "é" * 36).status_code == 200


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "_schema"),
        ({"current_password": "password123"}, "_schema"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": 42}, "name"),
        ({"name": None}, "name"),
        ({"email": "not-an-email", "current_password": "password123"}, "email"),
        ({"password": "short", "current_password": "password123"}, "password"),
        ({"password": "é" * 37, "current_password": "password123"}, "password"),  # 74 bytes
        ({"role": "admin"}, "role"),
        ({"name": "Ana", "role": "admin"}, "role"),
        ({"name": "Ana", "token_version": 0}, "token_version"),
        ({"name": "Ana", "is_admin": True}, "is_admin"),
    ],
)
def test_invalid_edits_are_422(patch_me, buyer, sql, body, field):
    before = stored(sql, buyer)
    response = patch_me(buyer, **body)
    assert response.status_code == 422
    assert problem_type(response) == "/problems/validation-error"
    assert field in response.json["errors"]
    assert stored(sql, buyer) == before


def test_patch_me_needs_a_token(client):
    response = client.patch(ME, json={"name": "Ana"})
    assert response.status_code == 401


def test_patch_me_not_json_is_415(client, buyer):
    response = client.patch(ME, data="name=Ana", headers=buyer["headers"], content_type="text/plain")
    assert response.status_code == 415


# ---------------------------------------------------------------- revocation everywhere


def test_token_of_a_deleted_account_is_revoked(client, users, sql):
    user = users.create()
    sql.all("DELETE FROM users WHERE id = %s", (user["id"],))
    response = client.get(ME, headers=user["headers"])
    assert response.status_code == 401
    assert "revoked" in response.json["detail"]


def _claims(user, **changes):
    now = int(time.time())
    return {"sub": user["id"], "role": user["role"], "ver": 0, "iat": now, "exp": now + 60, **changes}


@pytest.mark.parametrize(
    "changes",
    [{"ver": 1}, {"ver": -1}, {"ver": "0"}, {"ver": True}, {"ver": None}, {"ver": 0.0}],
    ids=["newer", "negative", "string", "bool", "null", "float"],
)
def test_token_with_a_wrong_version_is_401(client, buyer, changes):
    token = jwt.encode(_claims(buyer, **changes), JWT_SECRET, algorithm="HS256")
    response = client.get(ME, headers=bearer(token))
    assert response.status_code == 401
    assert problem_type(response) == "/problems/unauthorized"


def test_token_without_a_version_is_401(client, buyer):
    claims = _claims(buyer)
    del claims["ver"]
    response = client.get(ME, headers=bearer(jwt.encode(claims, JWT_SECRET, algorithm="HS256")))
    assert response.status_code == 401


def test_login_token_carries_the_current_version(client, users, sql):
    user = users.create()
    sql.all("UPDATE users SET token_version = 7 WHERE id = %s", (user["id"],))
    token = login(client, user["email"], user["password"]).json["token"]
    assert jwt.decode(token, JWT_SECRET, algorithms=["HS256"])["ver"] == 7
    assert client.get(ME, headers=bearer(token)).status_code == 200
    assert client.get(ME, headers=user["headers"]).status_code == 401  # minted at ver 0


def _revoke(sql, user):
    sql.all("UPDATE users SET token_version = token_version + 1 WHERE id = %s", (user["id"],))


def test_purchase_with_a_revoked_token_is_401_and_sells_nothing(client, make_event, patch_me, buyer, sql):
    event = make_event(capacity=5)
    patch_me(buyer, password="a new passphrase", current_password=buyer["password"])
    response = client.post(
        "/api/v1/orders", json={"event_id": event["id"], "quantity": 1}, headers=buyer["headers"]
    )
    assert response.status_code == 401
    assert problem_type(response) == "/problems/unauthorized"
    assert "revoked" in response.json["detail"]
    assert remaining(sql, event["id"]) == 5
    assert sql.value("SELECT count(*) FROM orders") == 0

    token = login(client, buyer["email"], "a new passphrase").json["token"]
    ok = client.post("/api/v1/orders", json={"event_id": event["id"], "quantity": 1}, headers=bearer(token))
    assert ok.status_code == 201
    assert remaining(sql, event["id"]) == 4


def test_purchase_pays_no_extra_round_trip_for_the_revocation_check(client, make_event, buyer, monkeypatch):
    from ticketing.users import repository

    lookups = []
    real = repository.auth_state
    monkeypatch.setattr(
        repository, "auth_state", lambda user_id: lookups.append(user_id) or real(user_id=user_id)
    )
    event = make_event()
    lookups.clear()
    response = client.post(
        "/api/v1/orders", json={"event_id": event["id"], "quantity": 1}, headers=buyer["headers"]
    )
    assert response.status_code == 201
    assert lookups == []  # purchase.sql checked the token version itself
    assert client.get("/api/v1/orders", headers=buyer["headers"]).status_code == 200
    assert lookups == [buyer["id"]]


@pytest.mark.parametrize("case", ["missing-event", "too-many", "sold-out"])
def test_revoked_token_is_401_before_any_other_purchase_error(client, make_event, buyer, sql, case):
    event = make_event(capacity=1)
    _revoke(sql, buyer)
    event_id = str(uuid.uuid4()) if case == "missing-event" else event["id"]
    quantity = 50 if case == "too-many" else 2 if case == "sold-out" else 1
    response = client.post(
        "/api/v1/orders", json={"event_id": event_id, "quantity": quantity}, headers=buyer["headers"]
    )
    assert response.status_code == 401
    assert remaining(sql, event["id"]) == 1


def test_purchase_with_a_revoked_token_cannot_replay_an_idempotency_key(client, make_event, buyer, sql):
    event = make_event(capacity=5)
    headers = {**buyer["headers"], "Idempotency-Key": "order-1"}
    body = {"event_id": event["id"], "quantity": 1}
    assert client.post("/api/v1/orders", json=body, headers=headers).status_code == 201
    _revoke(sql, buyer)
    response = client.post("/api/v1/orders", json=body, headers=headers)
    assert response.status_code == 401
    assert "Idempotent-Replayed" not in response.headers
    fresh_key = {**buyer["headers"], "Idempotency-Key": "order-2"}
    assert client.post("/api/v1/orders", json=body, headers=fresh_key).status_code == 401
    assert remaining(sql, event["id"]) == 4
    assert sql.value("SELECT count(*) FROM idempotency_keys") == 1


def test_other_routes_reject_revoked_tokens(client, make_event, buyer, admin, sql):
    _revoke(sql, buyer)
    _revoke(sql, admin)
    assert client.get("/api/v1/orders", headers=buyer["headers"]).status_code == 401
    assert client.get("/api/v1/me/events", headers=buyer["headers"]).status_code == 401
    assert client.post("/api/v1/events", json=EVENT, headers=admin["headers"]).status_code == 401
    assert client.get("/api/v1/users", headers=admin["headers"]).status_code == 401


# ---------------------------------------------------------------- roles come from the database


def test_demoted_admin_token_is_403_on_admin_routes(client, users, admin, sql):
    other = users.create(role="admin", name="Other admin")
    response = client.patch(f"/api/v1/users/{other['id']}", json={"role": "user"}, headers=admin["headers"])
    assert response.status_code == 200 and response.json["role"] == "user"
    denied = client.post("/api/v1/events", json=EVENT, headers=other["headers"])  # token still says admin
    assert denied.status_code == 403
    assert problem_type(denied) == "/problems/forbidden"
    assert client.get("/api/v1/users", headers=other["headers"]).status_code == 403
    assert client.get(ME, headers=other["headers"]).json["role"] == "user"


def test_promoted_user_token_works_on_admin_routes_at_once(client, admin, buyer):
    assert client.post("/api/v1/events", json=EVENT, headers=buyer["headers"]).status_code == 403
    response = client.patch(f"/api/v1/users/{buyer['id']}", json={"role": "admin"}, headers=admin["headers"])
    assert response.status_code == 200 and response.json["role"] == "admin"
    assert client.post("/api/v1/events", json=EVENT, headers=buyer["headers"]).status_code == 201


# ---------------------------------------------------------------- admin: GET /users


def _set_created(sql, user, when):
    sql.all("UPDATE users SET created_at = %s WHERE id = %s", (when, user["id"]))


def test_list_users_oldest_first_paginated(client, users, admin, sql):
    _set_created(sql, admin, "2020-01-01T00:00:00Z")
    made = [users.create(name=f"User {i}") for i in range(4)]
    for i, user in enumerate(made):
        _set_created(sql, user, f"2021-01-0{4 - i}T00:00:00Z")  # created in reverse order
    tie = users.create(name="Tie")
    _set_created(sql, tie, "2021-01-01T00:00:00Z")  # same instant as User 3: ordered by id
    expected_tied = sorted([made[3]["id"], tie["id"]])

    first = client.get("/api/v1/users?page=1&page_size=3", headers=admin["headers"])
    assert first.status_code == 200
    assert [u["id"] for u in first.json] == [admin["id"], *expected_tied]
    assert set(first.json[0]) == {"id", "name", "email", "role", "created_at"}
    meta = json.loads(first.headers["X-Pagination"])
    assert meta["total"] == 6 and meta["total_pages"] == 2 and meta["next_page"] == 2

    second = client.get("/api/v1/users?page=2&page_size=3", headers=admin["headers"])
    assert [u["id"] for u in second.json] == [made[2]["id"], made[1]["id"], made[0]["id"]]

    beyond = client.get("/api/v1/users?page=9&page_size=3", headers=admin["headers"])
    assert beyond.status_code == 200 and beyond.json == []
    assert json.loads(beyond.headers["X-Pagination"])["total"] == 6


def test_list_users_by_role(client, users, admin):
    users.create()
    other_admin = users.create(role="admin")
    response = client.get("/api/v1/users?role=admin", headers=admin["headers"])
    assert {u["id"] for u in response.json} == {admin["id"], other_admin["id"]}
    assert json.loads(response.headers["X-Pagination"])["total"] == 2
    only_users = client.get("/api/v1/users?role=user", headers=admin["headers"])
    assert {u["role"] for u in only_users.json} == {"user"} and len(only_users.json) == 1


def test_list_users_by_email_substring_case_insensitively(client, users, admin):
    ana = users.create(email="Ana.Souza@Example.com")
    users.create(email="bruno@example.com")
    response = client.get("/api/v1/users?email=ANA.SOUZA", headers=admin["headers"])
    assert [u["id"] for u in response.json] == [ana["id"]]
    both = client.get("/api/v1/users?email=example.com&role=user", headers=admin["headers"])
    assert len(both.json) == 2


def test_list_users_email_filter_takes_wildcards_literally(client, users, admin):
    percent = users.create(email="a%b@example.com")
    underscore = users.create(email="a_b@example.com")
    backslash = users.create(email="a\\b@example.com")
    users.create(email="axb@example.com")
    users.create(email="a-b@example.com")

    def ids(text):
        response = client.get("/api/v1/users", query_string={"email": text}, headers=admin["headers"])
        assert response.status_code == 200
        return {u["id"] for u in response.json}

    assert ids("a%b") == {percent["id"]}
    assert ids("a_b") == {underscore["id"]}
    assert ids("a\\b") == {backslash["id"]}
    assert ids("%") == {percent["id"]}
    assert ids("_") == {underscore["id"]}


@pytest.mark.parametrize("query", ["role=superuser", "page_size=101", "page=0", "email="])
def test_bad_user_list_parameters_are_422(client, admin, query):
    response = client.get(f"/api/v1/users?{query}", headers=admin["headers"])
    assert response.status_code == 422
    assert problem_type(response) == "/problems/validation-error"


# ---------------------------------------------------------------- admin: GET/PATCH /users/<id>


def test_get_user(client, admin, buyer):
    response = client.get(f"/api/v1/users/{buyer['id']}", headers=admin["headers"])
    assert response.status_code == 200
    assert response.json["id"] == buyer["id"] and response.json["email"] == buyer["email"]
    assert "password_hash" not in response.json


@pytest.mark.parametrize("user_id", [str(uuid.uuid4()), "not-a-uuid", "1"])
def test_get_unknown_or_malformed_user_is_404(client, admin, user_id):
    response = client.get(f"/api/v1/users/{user_id}", headers=admin["headers"])
    assert response.status_code == 404
    assert problem_type(response) == "/problems/not-found"


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "/api/v1/users", None),
        ("GET", "/api/v1/users/{id}", None),
        ("PATCH", "/api/v1/users/{id}", {"role": "admin"}),
    ],
)
def test_admin_routes_are_403_for_users_and_401_without_token(client, buyer, sql, method, path, body):
    path = path.format(id=buyer["id"])
    response = client.open(path, method=method, json=body, headers=buyer["headers"])
    assert response.status_code == 403
    assert problem_type(response) == "/problems/forbidden"
    assert client.open(path, method=method, json=body).status_code == 401
    assert stored(sql, buyer)["role"] == "user"


def test_admin_edits_name_and_email(client, admin, buyer, sql):
    response = client.patch(
        f"/api/v1/users/{buyer['id']}",
        json={"name": "  Renamed ", "email": " renamed@example.com "},
        headers=admin["headers"],
    )
    assert response.status_code == 200
    assert response.json["name"] == "Renamed" and response.json["email"] == "renamed@example.com"
    assert response.json["role"] == "user"
    assert stored(sql, buyer)["token_version"] == 0  # no password change, no revocation
    assert client.get(ME, headers=buyer["headers"]).json["email"] == "renamed@example.com"


def test_admin_email_taken_is_409(client, users, admin, buyer, sql):
    users.create(email="taken@example.com")
    response = client.patch(
        f"/api/v1/users/{buyer['id']}", json={"email": "Taken@EXAMPLE.com"}, headers=admin["headers"]
    )
    assert response.status_code == 409
    assert problem_type(response) == "/problems/email-taken"
    assert stored(sql, buyer)["email"] == buyer["email"]


@pytest.mark.parametrize("user_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_admin_patch_unknown_user_is_404(client, admin, user_id):
    response = client.patch(f"/api/v1/users/{user_id}", json={"name": "X"}, headers=admin["headers"])
    assert response.status_code == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "_schema"),
        ({"role": "superuser"}, "role"),
        ({"role": None}, "role"),
        ({"name": ""}, "name"),
        ({"email": "nope"}, "email"),
        ({"password": "a new passphrase"}, "password"),
        ({"token_version": 0}, "token_version"),
    ],
)
def test_admin_invalid_edits_are_422(client, admin, buyer, body, field):
    response = client.patch(f"/api/v1/users/{buyer['id']}", json=body, headers=admin["headers"])
    assert response.status_code == 422
    assert field in response.json["errors"]


def test_the_last_admin_cannot_demote_themselves(client, admin, sql):
    response = client.patch(f"/api/v1/users/{admin['id']}", json={"role": "user"}, headers=admin["headers"])
    assert response.status_code == 409
    assert problem_type(response) == "/problems/last-admin"
    assert stored(sql, admin)["role"] == "admin"
    # Editing the last admin otherwise, or "demoting" it to admin, is fine.
    renamed = client.patch(
        f"/api/v1/users/{admin['id']}",
        json={"name": "Still admin", "role": "admin"},
        headers=admin["headers"],
    )
    assert renamed.status_code == 200 and renamed.json["role"] == "admin"


def test_an_admin_can_demote_themselves_while_another_remains(client, users, admin, sql):
    users.create(role="admin")
    response = client.patch(f"/api/v1/users/{admin['id']}", json={"role": "user"}, headers=admin["headers"])
    assert response.status_code == 200 and response.json["role"] == "user"
    assert client.get("/api/v1/users", headers=admin["headers"]).status_code == 403


# ---------------------------------------------------------------- the last admin, concurrently


def _two_admins_only(sql, users):
    sql.all("UPDATE users SET role = 'user' WHERE role = 'admin'")
    return users.create(role="admin", name="Admin A"), users.create(role="admin", name="Admin B")


@pytest.mark.parametrize("first", ["lower-id", "higher-id"])
def test_crossed_demotions_in_sql_queue_and_the_second_is_refused(database_url, sql, users, first):
    """Deterministic interleaving: A's demotion of B holds its locks while B's demotion of
    A starts; the second waits, re-reads the admins after the first commits, and refuses."""
    a, b = sorted(_two_admins_only(sql, users), key=lambda u: u["id"], reverse=first == "higher-id")
    query = named_sql.load("users/admin_update").text
    params = {"name": None, "email": None, "role": "user"}
    first_conn, second_conn = psycopg2.connect(database_url), psycopg2.connect(database_url)
    try:
        with first_conn.cursor() as cur:
            cur.execute(query, {**params, "id": b["id"]})
            assert cur.fetchone() is not None  # B demoted, not committed yet
        outcome = {}

        def demote_a():
            with second_conn.cursor() as cur:
                cur.execute(query, {**params, "id": a["id"]})
                outcome["row"] = cur.fetchone()
            second_conn.commit()

        thread = threading.Thread(target=demote_a)
        thread.start()
        waiting_pid = second_conn.get_backend_pid()
        wait_until(
            lambda: (
                sql.value("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (waiting_pid,))
                == "Lock"
            ),
            "the second demotion never waited for the first",
        )
        first_conn.commit()
        thread.join(WAIT_TIMEOUT)
        assert not thread.is_alive()
        assert outcome["row"] is None  # refused: A is the last admin
    finally:
        first_conn.close()
        second_conn.close()
    roles = {row["id"]: row["role"] for row in sql.all("SELECT id::text, role FROM users")}
    assert roles[a["id"]] == "admin" and roles[b["id"]] == "user"


def demote(client, actor, target):
    response = client.patch(f"/api/v1/users/{target['id']}", json={"role": "user"}, headers=actor["headers"])
    return response.status_code, response.json.get("type")


def test_two_admins_demoting_each_other_at_once_leave_one_admin(make_app, users, sql):
    """Over HTTP, two apps (two pools), released together by a barrier, many rounds."""
    clients = [make_app().test_client(), make_app().test_client()]
    for _ in range(15):
        a, b = _two_admins_only(sql, users)
        statuses = run_together([partial(demote, clients[0], a, b), partial(demote, clients[1], b, a)])

        admins = sql.all("SELECT id::text FROM users WHERE role = 'admin'")
        assert len(admins) == 1, statuses
        codes = sorted(status for status, _ in statuses)
        assert codes[0] == 200 and codes[1] in (403, 409), statuses  # loser: refused or already demoted
        loser = next(kind for status, kind in statuses if status != 200)
        assert loser in ("/problems/last-admin", "/problems/forbidden")
