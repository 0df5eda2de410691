"""Every error is RFC 9457 problem+json; request ids and the one-line-per-request log."""

import json

import pytest

from tests.support.problems import PROBLEM_KEYS, assert_problem
from tests.support.samples import SIGNUP


def test_unknown_route_is_404(client):
    assert_problem(client.get("/api/v1/nothing-here"), 404, "not-found", "/api/v1/nothing-here")
    assert_problem(client.post("/no/such/route", json={}), 404, "not-found", "/no/such/route")


def test_malformed_uuid_in_path_is_404(client):
    assert_problem(client.get("/api/v1/events/not-a-uuid"), 404, "not-found", "/api/v1/events/not-a-uuid")


def test_wrong_method_is_405_with_allow(client):
    response = client.delete("/api/v1/signup")
    assert_problem(response, 405, "method-not-allowed", "/api/v1/signup")
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert "POST" in allowed
    assert "DELETE" not in allowed and "GET" not in allowed


def test_oversize_body_is_413(client, sql):
    body = json.dumps({**SIGNUP, "name": "x" * (100 * 1024)})
    response = client.post("/api/v1/signup", data=body, content_type="application/json")
    assert_problem(response, 413, "payload-too-large", "/api/v1/signup")
    assert sql.value("SELECT count(*) FROM users") == 0


def test_body_under_the_limit_is_read(client):
    # 60 KiB is under the 64 KiB default: the body is parsed and validated, not refused.
    body = json.dumps({**SIGNUP, "name": "x" * (60 * 1024)})
    response = client.post("/api/v1/signup", data=body, content_type="application/json")
    body = assert_problem(response, 422, "validation-error", "/api/v1/signup")
    assert "name" in body["errors"]


def test_max_body_bytes_setting_is_honoured(make_app):
    client = make_app(max_body_bytes=2048).test_client()
    body = json.dumps({**SIGNUP, "name": "x" * 4096})
    response = client.post("/api/v1/signup", data=body, content_type="application/json")
    assert_problem(response, 413, "payload-too-large", "/api/v1/signup")


@pytest.mark.parametrize("body", ['{"name": ', "{'name': 'x'}", "not json", '{"a": 1} trailing', "\xff\xfe"])
def test_malformed_json_is_400(client, body):
    response = client.post("/api/v1/signup", data=body, content_type="application/json")
    assert_problem(response, 400, "malformed-request", "/api/v1/signup")


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data"],
)
def test_json_with_wrong_content_type_is_415(client, content_type):
    response = client.post("/api/v1/signup", data=json.dumps(SIGNUP), content_type=content_type)
    assert_problem(response, 415, "unsupported-media-type", "/api/v1/signup")


@pytest.mark.parametrize("content_type", [None, "application/json"])
def test_empty_body_is_400(client, content_type):
    response = client.post("/api/v1/signup", data=b"", content_type=content_type)
    assert_problem(response, 400, "malformed-request", "/api/v1/signup")


@pytest.mark.parametrize("body", ["[]", "[1, 2]", '"text"', "42", "null", "true"])
def test_json_that_is_not_an_object_is_422(client, body):
    response = client.post("/api/v1/signup", data=body, content_type="application/json")
    problem = assert_problem(response, 422, "validation-error", "/api/v1/signup")
    assert problem["errors"]


# Each stays under the default 64 KiB limit, so the JSON parser really sees it.
NESTED_BODIES = {
    "open-arrays": "[" * 60000,
    "closed-arrays": "[" * 30000 + "]" * 30000,
    "objects": '{"a":' * 10000 + "1" + "}" * 10000,
    "in-a-field": '{"name": ' + "[" * 30000 + "]" * 30000 + "}",
}


@pytest.mark.parametrize("shape", sorted(NESTED_BODIES))
def test_deeply_nested_json_is_a_client_error(client, shape):
    body = NESTED_BODIES[shape]
    assert len(body) < 64 * 1024
    response = client.post("/api/v1/signup", data=body, content_type="application/json")
    assert response.status_code in (400, 422)
    assert_problem(response, response.status_code, None, "/api/v1/signup")


def test_100000_open_brackets_are_a_client_error(make_app):
    client = make_app(max_body_bytes=1024 * 1024).test_client()
    response = client.post("/api/v1/signup", data="[" * 100000, content_type="application/json")
    assert response.status_code in (400, 422)
    assert_problem(response, response.status_code, None, "/api/v1/signup")


def test_deeply_nested_json_to_an_authenticated_route(client, admin):
    body = '{"name": "x", "price": ' + "[" * 5000 + "]" * 5000 + "}"
    response = client.post(
        "/api/v1/events", data=body, content_type="application/json", headers=admin["headers"]
    )
    assert response.status_code in (400, 422)
    assert_problem(response, response.status_code, None, "/api/v1/events")


SECRET = "hunter2-db-password-in-a-stack-trace"


@pytest.fixture
def boom_app(make_app):
    """An app with a test-only route that fails the way a bug would."""
    app = make_app()

    def boom():
        raise RuntimeError(f"connection to postgresql://admin:{SECRET}@db/prod failed")

    app.add_url_rule("/api/v1/test-only/boom", "boom", boom, methods=["GET", "POST"])
    return app


def test_unexpected_exception_is_500_that_reveals_nothing(boom_app):
    response = boom_app.test_client().get("/api/v1/test-only/boom")
    body = assert_problem(response, 500, "internal-error", "/api/v1/test-only/boom")
    assert set(body) == PROBLEM_KEYS
    text = response.get_data(as_text=True)
    for leak in (SECRET, "RuntimeError", "Traceback", "postgresql", "boom", ".py", "line "):
        assert leak not in text.replace("/api/v1/test-only/boom", ""), leak


def test_unexpected_exception_on_post_with_body(boom_app):
    response = boom_app.test_client().post("/api/v1/test-only/boom", json={"a": 1})
    assert_problem(response, 500, "internal-error", "/api/v1/test-only/boom")
    assert SECRET not in response.get_data(as_text=True)


# ---------------------------------------------------------------- X-Request-ID


@pytest.mark.parametrize(
    "request_id", ["abc-123", "0b5c2f7e-9a1d-4c55-a1d3-7c1b2d3e4f50", "x" * 128, "A.b_c:d/e"]
)
def test_valid_request_id_is_echoed(client, request_id):
    response = client.get("/healthz", headers={"X-Request-ID": request_id})
    assert response.headers["X-Request-ID"] == request_id


def test_request_id_is_echoed_on_errors_too(client):
    response = client.get("/api/v1/nothing-here", headers={"X-Request-ID": "trace-404"})
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "trace-404"


@pytest.mark.parametrize(
    "request_id",
    ["has space", "x" * 129, "tab\there", "", " leading", 'quote"s are fine but not spaces'],
    ids=["space", "too-long", "tab", "empty", "leading-space", "mixed"],
)
def test_invalid_request_id_is_replaced(client, request_id):
    response = client.get("/healthz", headers={"X-Request-ID": request_id})
    generated = response.headers["X-Request-ID"]
    assert generated and generated != request_id
    assert " " not in generated and len(generated) <= 128


def test_missing_request_id_is_generated_and_unique(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert first and second and first != second


# ---------------------------------------------------------------- request log


def _log_lines(capsys):
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_one_log_line_per_request(client, capsys):
    capsys.readouterr()
    response = client.get("/healthz?verbose=1", headers={"X-Request-ID": "log-test-1"})
    assert response.status_code == 200
    (line,) = _log_lines(capsys)
    assert line["method"] == "GET"
    assert line["path"] == "/healthz"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], (int, float)) and line["duration_ms"] >= 0
    assert line["request_id"] == "log-test-1"
    assert "user_id" not in line


def test_log_line_request_id_matches_generated_header(client, capsys):
    capsys.readouterr()
    response = client.get("/healthz", headers={"X-Request-ID": "bad id"})
    (line,) = _log_lines(capsys)
    assert line["request_id"] == response.headers["X-Request-ID"]


def test_log_line_has_user_id_when_authenticated(client, buyer, capsys):
    capsys.readouterr()
    assert client.get("/api/v1/me", headers=buyer["headers"]).status_code == 200
    (line,) = _log_lines(capsys)
    assert line["user_id"] == buyer["id"]
    assert line["path"] == "/api/v1/me" and line["status"] == 200


def test_log_line_has_user_id_when_authenticated_but_forbidden(client, buyer, capsys):
    capsys.readouterr()
    response = client.post("/api/v1/events", json={}, headers=buyer["headers"])
    assert response.status_code == 403
    (line,) = _log_lines(capsys)
    assert line["status"] == 403
    assert line["user_id"] == buyer["id"]


def test_log_line_has_no_user_id_for_a_bad_token(client, capsys):
    capsys.readouterr()
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer not.a.jwt"})
    assert response.status_code == 401
    (line,) = _log_lines(capsys)
    assert line["status"] == 401 and "user_id" not in line


@pytest.mark.parametrize(
    "method, path, kwargs, status",
    [
        ("GET", "/api/v1/nothing-here", {}, 404),
        ("DELETE", "/api/v1/signup", {}, 405),
        ("POST", "/api/v1/signup", {"data": "{", "content_type": "application/json"}, 400),
        ("POST", "/api/v1/signup", {"data": "x" * (100 * 1024), "content_type": "application/json"}, 413),
        ("POST", "/api/v1/signup", {"json": {}}, 422),
    ],
)
def test_errors_are_logged_once_too(client, capsys, method, path, kwargs, status):
    capsys.readouterr()
    response = client.open(path, method=method, **kwargs)
    assert response.status_code == status
    (line,) = _log_lines(capsys)
    assert (line["method"], line["path"], line["status"]) == (method, path, status)
    assert line["request_id"] == response.headers["X-Request-ID"]


def test_500_is_logged_once(boom_app, capsys):
    client = boom_app.test_client()
    capsys.readouterr()
    assert client.get("/api/v1/test-only/boom").status_code == 500
    (line,) = _log_lines(capsys)
    assert line["status"] == 500 and line["path"] == "/api/v1/test-only/boom"
