import time

import jwt
import pytest

from tests.support.problems import problem_type
from tests.support.samples import JWT_SECRET, SIGNUP
from ticketing import security


def test_signup_creates_a_user(client, sql):
    response = client.post("/api/v1/signup", json={**SIGNUP, "email": "  Ana@Example.com "})
    assert response.status_code == 201
    body = response.json
    assert set(body) == {"id", "name", "email", "role", "created_at"}
    assert body["email"] == "Ana@Example.com"
    assert body["role"] == "user"
    assert body["created_at"].endswith("Z")
    stored = sql.one("SELECT password_hash FROM users WHERE id = %s", (body["id"],))
    assert stored["password_hash"].startswith("$2b$04$")


def test_signup_email_is_unique_case_insensitively(client):
    assert client.post("/api/v1/signup", json=SIGNUP).status_code == 201
    again = client.post("/api/v1/signup", json={**SIGNUP, "email": "ANA@example.COM"})
    assert again.status_code == 409
    assert problem_type(again) == "/problems/email-taken"


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "é" * 37}, "password"),  # 74 bytes
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": 42}, "name"),
        ({"role": "admin"}, "role"),
        ({"is_admin": True}, "is_admin"),
    ],
)
def test_signup_rejects_invalid_fields(client, changes, field):
    response = client.post("/api/v1/signup", json={**SIGNUP, **changes})
    assert response.status_code == 422
    assert problem_type(response) == "/problems/validation-error"
    assert field in response.json["errors"]


def test_signup_accepts_72_byte_password(client):
    response = client.post("/api/v1/signup", json={**SIGNUP, "password": "é" * 36})
    assert response.status_code == 201


def test_signup_missing_fields(client):
    response = client.post("/api/v1/signup", json={})
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"name", "email", "password"}


def test_login_returns_a_bearer_token(client, users):
    user = users.create(password="password123")
    response = client.post("/api/v1/login", json={"email": user["email"].upper(), "password": "password123"})
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    claims = jwt.decode(body["token"], JWT_SECRET, algorithms=["HS256"])
    assert claims["sub"] == user["id"] and claims["role"] == "user"
    assert claims["exp"] - claims["iat"] == 3600


def test_login_failures_look_the_same(client, users, monkeypatch):
    user = users.create(password="password123")
    checked = []
    real = security.bcrypt.checkpw
    monkeypatch.setattr(security.bcrypt, "checkpw", lambda pw, h: checked.append(h) or real(pw, h))
    wrong = client.post("/api/v1/login", json={"email": user["email"], "password": "wrong-password"})
    unknown = client.post("/api/v1/login", json={"email": "nobody@example.com", "password": "wrong-password"})
    assert wrong.status_code == unknown.status_code == 401
    strip = lambda r: {k: v for k, v in r.json.items()}  # noqa: E731
    assert strip(wrong) == strip(unknown)
    assert wrong.json["type"] == "/problems/invalid-credentials"
    # Both paths pay one bcrypt check, so they take about the same time.
    assert len(checked) == 2


def test_login_with_overlong_password_is_401_not_500(client, users):
    user = users.create(password="password123")
    response = client.post(
        "/api/v1/login", json={"email": user["email"], "password": "password123" + "x" * 100}
    )
    assert response.status_code == 401


def test_me(client, buyer):
    response = client.get("/api/v1/me", headers=buyer["headers"])
    assert response.status_code == 200
    assert response.json["id"] == buyer["id"]
    assert "password_hash" not in response.json and "password" not in response.json


def _token(claims, key=JWT_SECRET, algorithm="HS256"):
    return jwt.encode(claims, key, algorithm=algorithm)


def _claims(user, **changes):
    now = int(time.time())
    return {"sub": user["id"], "role": "user", "iat": now, "exp": now + 60, **changes}


@pytest.mark.parametrize(
    "make_header",
    [
        lambda u: None,
        lambda u: "Bearer",
        lambda u: "Bearer not.a.jwt",
        lambda u: "Basic dXNlcjpwYXNz",
        lambda u: "Bearer " + _token(_claims(u), key="another-secret-that-is-32-bytes-long!!"),
        lambda u: "Bearer " + _token(_claims(u, exp=int(time.time()) - 10)),
        lambda u: "Bearer " + _token(_claims(u), key=None, algorithm="none"),
        lambda u: "Bearer " + _token({k: v for k, v in _claims(u).items() if k != "exp"}),
        lambda u: "Bearer " + _token(_claims(u, sub="not-a-uuid")),
        lambda u: "Bearer " + _token(_claims(u, role="superuser")),
        lambda u: "Bearer " + _token(_claims(u), key=JWT_SECRET, algorithm="HS512"),
    ],
    ids=[
        "missing",
        "empty",
        "malformed",
        "basic",
        "forged",
        "expired",
        "alg-none",
        "no-exp",
        "bad-sub",
        "bad-role",
        "hs512",
    ],
)
def test_bad_tokens_are_401(client, buyer, make_header):
    header = make_header(buyer)
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert problem_type(response) == "/problems/unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_alg_none_token_built_by_hand_is_rejected(client, buyer):
    import base64
    import json

    def b64(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    token = b64({"alg": "none", "typ": "JWT"}) + "." + b64(_claims(buyer, role="admin")) + "."
    response = client.post("/api/v1/events", json={}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
