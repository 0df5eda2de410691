"""No input makes a 500 (issue 9, §4), proven against a real gunicorn.

For every operation of the OpenAPI document, hypothesis sends requests whose body fields
(each property of the documented body, or a member it does not know), whole bodies, raw
body bytes, query parameters, path parameters and the headers the API reads
(Authorization, Idempotency-Key, X-Webhook-Secret, X-Request-ID) are arbitrary: any JSON
value (lone surrogate escapes, integers of any length, 1e999999999, NaN, NUL, duplicate
members, deep nesting), invalid UTF-8, any byte. The answer is never a 5xx, and every
4xx the app itself gives is problem+json. The seed is fixed (`derandomize`), so CI runs
the same cases every time.

Unlike tests/test_fuzz.py (schemathesis: the spec and the answers agree), this test does
not care what the answer is, only that hostile input never reaches a crash.
"""

from __future__ import annotations

import http.client
import json
import tracemalloc
from urllib.parse import quote, quote_from_bytes, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from urllib3 import encode_multipart_formdata

from tests.support.problems import assert_problem
from tests.support.samples import EVENT, JWT_SECRET, WEBHOOK_SECRET
from tests.support.timeouts import REQUEST_TIMEOUT
from ticketing import create_app
from ticketing.config import Settings
from ticketing.errors import PROBLEM_CONTENT_TYPE

SPEC = json.loads(
    create_app(Settings(database_url="postgresql://spec-only.invalid/x", jwt_secret=JWT_SECRET))
    .test_client()
    .get("/api/v1/openapi.json")
    .data
)
METHODS = ("get", "post", "put", "patch", "delete")
OPERATIONS = [
    (method.upper(), path, operation)
    for path, item in SPEC["paths"].items()
    for method, operation in item.items()
    if method in METHODS
]


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = SPEC["components"]["schemas"][name]
    return schema


# --- arbitrary JSON, written by hand so that it can hold what json.dumps cannot write --------


class Num(str):
    """A JSON number as its text: any length, any exponent (json.dumps of a 5000-digit int
    fails, and 1e999999999 is no float)."""


class Obj(list):
    """A JSON object as a list of (key, value) pairs: a key may appear twice."""


def dump(value, ascii_only: bool) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, Num):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=ascii_only)
    if isinstance(value, Obj):
        return "{" + ",".join(f"{dump(k, ascii_only)}:{dump(v, ascii_only)}" for k, v in value) + "}"
    return "[" + ",".join(dump(item, ascii_only) for item in value) + "]"


def encode(text: str) -> bytes:
    # A lone surrogate written raw (not as an escape) becomes invalid UTF-8, on purpose.
    return text.encode("utf-8", "surrogatepass")


# Every code point, lone surrogates (category Cs, which characters() leaves out) and NUL too.
any_char = st.one_of(st.characters(), st.characters(categories=["Cs"]))
texts = st.one_of(
    st.text(any_char, max_size=20),
    st.sampled_from(
        [
            "\ud800",
            "a\udfffb",
            "\ud83d\ude00",
            "\x00",
            "a\x00b",
            "\ufeff",
            "\U0010ffff",
            " ",
            "ana@example.com",
        ]
    ),
    st.integers(1, 70_000).map(lambda n: "x" * n),
)
numbers = st.one_of(
    st.integers().map(lambda n: Num(n)),
    st.integers(1, 20_000).map(lambda n: Num("9" * n)),  # past Python's 4300-digit int limit
    st.sampled_from(
        [
            "1e999999999",
            "-1e999999999",
            "1e-999999999",
            "1E400",
            "-0",
            "-0.0",
            "0.001",
            "1.5e3",
            "NaN",
            "Infinity",
            "-Infinity",
            "9999999999.99",
            "10000000000",
            "2147483648",
            "-2147483649",
        ]
    ).map(Num),
    st.decimals(allow_nan=False, allow_infinity=False).map(lambda d: Num(str(d))),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: Num(repr(f))),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(st.tuples(texts, children), max_size=4).map(Obj),
    ),
    max_leaves=8,
)
# Deeply nested documents: past Python's recursion limit.
deep = st.integers(1, 30_000).map(lambda n: Num("[" * n + "]" * n))
header_values = st.one_of(
    # Any byte but CR and LF (which would end the header line; http.client refuses them).
    st.binary(max_size=300).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
    st.sampled_from([b"", b" ", b"\x00", b"\xff\xfe", b"Bearer ", b"Bearer \x00", b"Bearer \xed\xa0\x80"]),
)


def example_body(operation) -> tuple[dict, list[str]]:
    """The documented example body of an operation (or {}) and the names of its fields."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return {}, []
    schema = _resolve(content["schema"])
    example = content.get("example") or {}
    if operation is SPEC["paths"]["/api/v1/events"]["post"]:
        example = EVENT
    return dict(example), list(schema.get("properties", {}))


@st.composite
def json_bodies(draw, operation) -> tuple[bytes, str]:
    example, fields = example_body(operation)
    ascii_only = draw(st.booleans())
    shape = draw(st.sampled_from(["field", "field", "field", "whole", "raw", "mutated", "deep"]))
    if shape == "field":  # one field of a valid body replaced, or a member added
        field = draw(st.sampled_from(fields) if fields else texts) if draw(st.integers(0, 4)) else draw(texts)
        body = Obj(
            [
                (k, Num(json.dumps(v)) if not isinstance(v, str) else v)
                for k, v in example.items()
                if k != field
            ]
        )
        body.append((field, draw(st.one_of(numbers, texts, json_values))))
        text = encode(dump(body, ascii_only))
    elif shape == "whole":
        text = encode(dump(draw(json_values), ascii_only))
    elif shape == "deep":
        text = encode(dump(draw(deep), ascii_only))
    elif shape == "raw":
        text = draw(st.binary(max_size=200))
    else:  # a valid body with a byte spliced in, a member doubled, or cut short
        valid = json.dumps(example).encode()
        position = draw(st.integers(0, len(valid)))
        splice = draw(
            st.sampled_from([b"\x00", b"\xff", b"\xed\xa0\x80", b"\xc0\xaf", b'"a":1,', b"\\u0000"])
        )
        if example and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(example)))
            text = valid[:-1] + b"," + json.dumps({key: example[key]}).encode()[1:]
        elif draw(st.booleans()):
            text = valid[:position] + splice + valid[position:]
        else:
            text = valid[:position]
    content_type = draw(
        st.sampled_from(["application/json"] * 6 + ["application/json; charset=latin-1", "text/plain", ""])
    )
    return text, content_type


@st.composite
def query_strings(draw, operation) -> str:
    parts = []
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "query" or not draw(st.booleans()):
            continue
        raw = draw(st.one_of(texts.map(encode), st.binary(max_size=50), numbers.map(lambda n: n.encode())))
        parts.append(f"{parameter['name']}={quote_from_bytes(raw, safe='')}")
    if draw(st.integers(0, 5)) == 0:
        parts.append(f"{quote(draw(st.text(max_size=10)))}={quote_from_bytes(draw(st.binary(max_size=10)))}")
    return "&".join(parts)


class Hostile:
    def __init__(self, server, tokens: dict, ids: dict):
        self.server = server
        self.tokens = tokens  # {"admin": ..., "buyer": ...}
        self.ids = ids  # path parameter name -> seeded values

    def path(self, draw, template: str) -> str:
        path = template
        for name, values in self.ids.items():
            placeholder = "{" + name + "}"
            if placeholder in path:
                if draw(st.integers(0, 3)):
                    value = draw(st.sampled_from(values))
                else:
                    value = quote_from_bytes(
                        draw(st.one_of(texts.map(encode), st.binary(max_size=40))), safe=""
                    )
                path = path.replace(placeholder, value or "x")
        return path

    def headers(self, draw, operation) -> dict[str, bytes]:
        headers = {}
        security = [name for requirement in operation.get("security", []) for name in requirement]
        choice = draw(st.integers(0, 4))
        if choice <= 2:
            who = "admin" if choice < 2 or "bearerAuth" not in security else "buyer"
            headers["Authorization"] = f"Bearer {self.tokens[who]}".encode()
        elif choice == 3:
            headers["Authorization"] = draw(header_values)
        if "webhookSecret" in security and draw(st.integers(0, 3)):
            headers["X-Webhook-Secret"] = WEBHOOK_SECRET.encode()
        elif draw(st.booleans()):
            headers["X-Webhook-Secret"] = draw(header_values)
        for name in ("Idempotency-Key", "X-Request-ID"):
            if draw(st.booleans()):
                headers[name] = draw(header_values)
        return headers

    def send(self, method: str, target: str, headers: dict[str, bytes], body: bytes | None):
        address = urlsplit(self.server.url)
        conn = http.client.HTTPConnection(address.hostname, address.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.putrequest(method, target, skip_accept_encoding=True)
            for name, value in headers.items():
                conn.putheader(name, value)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()


@pytest.fixture
def hostile(live_server, users, admin, buyer, make_event, buy):
    event = make_event(max_per_order=100)
    order = buy(event["id"], 2)
    assert order.status_code == 201, order.json
    ids = {
        "event_id": [event["id"], make_event(name="Another")["id"]],
        "order_id": [order.json["id"]],
        "ticket_id": [ticket["id"] for ticket in order.json["tickets"]],
        "user_id": [admin["id"], buyer["id"]],
        "name": ["0123456789abcdef0123456789abcdef.png"],
    }
    return Hostile(live_server, {"admin": admin["token"], "buyer": buyer["token"]}, ids)


@pytest.mark.parametrize(
    ("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
@settings(
    max_examples=40,
    derandomize=True,  # a fixed seed: the same cases in CI every time
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_no_input_makes_a_5xx(hostile, method, path, operation, data):
    draw = data.draw
    target = hostile.path(draw, path)
    query = draw(query_strings(operation))
    if query:
        target += "?" + query
    headers = hostile.headers(draw, operation)
    content = operation.get("requestBody", {}).get("content", {})
    body = None
    if "multipart/form-data" in content:
        fields = {"image": ("poster.png", draw(st.binary(max_size=2000)))}
        if draw(st.booleans()):
            fields[draw(st.text(min_size=1, max_size=10))] = draw(st.text(any_char, max_size=20)).encode(
                "utf-8", "surrogatepass"
            )
        body, content_type = encode_multipart_formdata(fields)
        headers["Content-Type"] = content_type.encode()
    elif content or draw(st.integers(0, 4)) == 0:
        body, content_type = draw(json_bodies(operation))
        if content_type:
            headers["Content-Type"] = content_type.encode()
    status, response_headers, payload = hostile.send(method, target, headers, body)
    assert status < 500, (
        f"{method} {target!r} {headers!r} {body[:300] if body else body!r}: {status} {payload[:500]!r}"
    )
    if status >= 400 and "X-Request-ID" in response_headers:  # answered by the app (not gunicorn's parser)
        assert response_headers.get("Content-Type") == PROBLEM_CONTENT_TYPE, (status, payload[:300])


# The known troublemakers, as raw JSON text, each tried in every field of every body.
HOSTILE_JSON = [
    b'"\\ud800"',
    b'"a\\udc00"',
    b'"\xed\xa0\x80"',  # a surrogate encoded raw: invalid UTF-8
    b'"\xff"',
    b'"a\\u0000b"',
    b'"a\x00b"',
    b"9" * 5000,
    b"-" + b"9" * 5000,
    b"1" + b"0" * 4300 + b".5",
    b"1e999999999",
    b"-1e999999999",
    b"1e-999999999",
    b"NaN",
    b"-Infinity",
    b"[" * 50_000 + b"]" * 50_000,
    b'{"a": 1, "a": 2}',
    b'"' + b"x" * 70_000 + b'"',
    b"null",
    b"true",
    b"[]",
    b"{}",
]
HOSTILE_QUERY = ["%ED%A0%80", "%FF", "%00", "a%00b", "9" * 5000, "1e999999999", "-1", "NaN", "x" * 5000]
HOSTILE_HEADERS = [b"\x00", b"a\x00b", b"\xff\xfe", b"\xed\xa0\x80", b"Bearer \x00", b"x" * 6000, b" "]


def _bodies(operation):
    """Each field of the documented body (and a duplicate of it) set to each hostile value."""
    example, fields = example_body(operation)
    for field in fields:
        rest = b", ".join(
            json.dumps(k).encode() + b": " + json.dumps(v).encode() for k, v in example.items() if k != field
        )
        for value in HOSTILE_JSON:
            member = json.dumps(field).encode() + b": " + value
            yield b"{" + (rest + b", " if rest else b"") + member + b"}"
        if field in example:  # the same member twice, the valid value first
            yield json.dumps(example).encode()[:-1] + b", " + member + b"}"
    yield from HOSTILE_JSON  # as the whole body


@pytest.mark.parametrize(
    ("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
def test_known_hostile_values_in_every_field_header_and_parameter(hostile, method, path, operation):
    target = path
    for name, values in hostile.ids.items():
        target = target.replace("{" + name + "}", values[0])
    auth = {
        "Authorization": f"Bearer {hostile.tokens['admin']}".encode(),
        "X-Webhook-Secret": WEBHOOK_SECRET.encode(),
    }
    json_type = {"Content-Type": b"application/json"}
    requests_ = []
    if "application/json" in operation.get("requestBody", {}).get("content", {}):
        requests_ += [(target, {**auth, **json_type}, body) for body in _bodies(operation)]
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query":
            requests_ += [(f"{target}?{parameter['name']}={value}", auth, None) for value in HOSTILE_QUERY]
    for name in ("Authorization", "Idempotency-Key", "X-Webhook-Secret", "X-Request-ID"):
        for value in HOSTILE_HEADERS:
            body = json.dumps(example_body(operation)[0]).encode() if method in ("POST", "PATCH") else None
            requests_.append((target, {**auth, **json_type, name: value}, body))
    for target_, headers, body in requests_:
        status, response_headers, payload = hostile.send(method, target_, headers, body)
        assert status < 500, (
            f"{method} {target_[:200]!r} {headers!r} {body[:200] if body else body!r}: {status} {payload[:300]!r}"
        )
        if status >= 400 and "X-Request-ID" in response_headers:
            assert response_headers.get("Content-Type") == PROBLEM_CONTENT_TYPE, (status, payload[:300])


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"email": "a@b.co", "email": "c@d.co", "password": "x"}', "appears twice"),
        (b'{"email": "\\ud800", "password": "x"}', "lone surrogate"),
        (b'{"email": "a@b.co", "password": ["\\udfff"]}', "lone surrogate"),
        (b'{"email": "a@b.co", "password": NaN}', "not JSON"),
        (b'{"email": "a@b.co", "password": "\xed\xa0\x80"}', None),  # invalid UTF-8
        (b"[" * 30_000 + b"]" * 30_000, "nested too deeply"),
    ],
)
def test_json_that_nothing_can_use_is_a_400(client, body, detail):
    response = client.post("/api/v1/login", data=body, content_type="application/json")
    problem = assert_problem(response, 400, "malformed-request")
    assert detail is None or detail in problem["detail"]


def test_a_surrogate_pair_is_one_character_not_a_lone_surrogate(client):
    body = b'{"name": "\\ud83c\\udfb8 Band", "email": "pair@example.com", "password": "password123"}'
    response = client.post("/api/v1/signup", data=body, content_type="application/json")
    assert response.status_code == 201, response.json
    assert response.json["name"] == "\N{GUITAR} Band"


@pytest.mark.parametrize("digits", [41, 4301, 60_000])
def test_an_integer_of_any_length_is_a_422(client, admin, digits):
    body = b'{"event_id": "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f", "quantity": ' + b"7" * digits + b"}"
    response = client.post(
        "/api/v1/orders", data=body, content_type="application/json", headers=admin["headers"]
    )
    assert assert_problem(response, 422, "validation-error")["errors"] == {
        "quantity": ["Not a valid integer."]
    }


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("1e999999999", "Must be less than 10,000,000,000."),
        ("9" * 5000, "Must be less than 10,000,000,000."),
        ("-1e999999999", "Must be a non-negative amount with at most two decimal places."),
        ("1e-999999999", "Must be a non-negative amount with at most two decimal places."),
    ],
)
def test_a_huge_money_amount_is_judged_without_writing_it_out(client, admin, number, message):
    tracemalloc.start()
    try:
        body = json.dumps({**EVENT, "price": 0}).replace('"price": 0', f'"price": {number}').encode()
        response = client.post(
            "/api/v1/events", data=body, content_type="application/json", headers=admin["headers"]
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert assert_problem(response, 422, "validation-error")["errors"] == {"price": [message]}
    assert peak < 5_000_000  # written out, 1e999999999 is a gigabyte
