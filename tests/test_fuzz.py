"""Schema-driven fuzzing of every operation in the OpenAPI document (schemathesis).

All of schemathesis' default phases (examples, coverage, fuzzing; valid and invalid data)
and checks run: no 5xx; status codes, content types, bodies and headers as documented;
invalid data rejected, valid data accepted; declared auth really enforced; unsupported
methods answer 405. Two changes to them:

* stricter: an answer below 500 must be listed under its own status code, not only under
  `default`, and a problem's type must be one of the kinds listed for that code;
* `positive_data_acceptance` lets through the 4xx of the few rules JSON Schema cannot
  state (UNSTATED_FIELD_RULES, UNSTATED_PROBLEMS below), and only those.
"""

from __future__ import annotations

import io
import json
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.support.samples import JWT_SECRET, WEBHOOK_SECRET
from ticketing import create_app
from ticketing.config import Settings
from ticketing.errors import PROBLEM_CONTENT_TYPE

SPEC_PATH = "/api/v1/openapi.json"
IMAGE_UPLOAD = "POST /api/v1/events/{event_id}/image"
TRANSFER = "POST /api/v1/tickets/{ticket_id}/transfer"
CHECK_IN_BY_CODE = "POST /api/v1/check-ins"


class ForwardingApp:
    """The WSGI app the fuzzer calls. The operations must be known at collection time, so
    that each one is its own test with fresh tables and seed data, but the test database
    only starts with the session; the document does not depend on it. So: the document
    comes from an app that never connects, and the requests go to the session's `app`."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


TEST_APP = ForwardingApp(
    create_app(Settings(database_url="postgresql://spec-only.invalid/x", jwt_secret=JWT_SECRET))
)
schema = schemathesis.openapi.from_wsgi(SPEC_PATH, TEST_APP)

# Ids of the rows seeded for the running test. The fuzzer sends them as often as random
# ones, so it gets past the 404s (which a random id must answer) to the deeper code.
SEEDED: dict[str, list[str]] = {}
# The running test's credentials per security scheme: (header, value).
CREDENTIALS: dict[str, tuple[str, str]] = {}


@schema.auth(refresh_interval=None)  # new credentials for every test: never cache them
class SeededCredentials:
    """The seeded admin's token or the webhook secret, on the operations that declare them
    (the fuzzer still sends requests without them, or with generated ones, to see a 401)."""

    def get(self, case, context):
        security = case.operation.definition.raw.get("security", [])
        headers = [
            CREDENTIALS[name] for requirement in security for name in requirement if name in CREDENTIALS
        ]
        return headers or None

    def set(self, case, headers, context):
        case.headers = {**(case.headers or {}), **dict(headers)}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    options = [path_parameters]
    for name, values in SEEDED.items():
        if path_parameters and name in path_parameters and _valid(name, path_parameters[name]):
            options += [{**path_parameters, name: value} for value in values]
    return st.sampled_from(options)


def _valid(name: str, value) -> bool:
    """Only a valid value is swapped for a seeded one: an invalid one is a negative test."""
    if not isinstance(value, str):
        return False
    if name == "name":  # an image name: any string
        return True
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def documented_answer(ctx, response, case):
    """An answer below 500 is listed under its own code (`default` is for the unexpected),
    and a problem's type is one of the kinds listed for that code."""
    if case.method.upper() != case.operation.method.upper():
        return None  # a probe with a method the path does not serve: `unsupported_method` checks it
    responses = case.operation.definition.raw["responses"]
    code = response.status_code
    if code >= 500:
        return None
    if str(code) not in responses:
        raise AssertionError(
            f"{case.operation.label} answered {code}, which the spec covers only by `default` "
            f"(documented: {', '.join(sorted(responses))}): {response.text[:300]}"
        )
    if response.headers.get("content-type", [""])[0] != PROBLEM_CONTENT_TYPE:
        return None
    documented = responses[str(code)]
    if "$ref" in documented:  # the shared one: flask-smorest's 422 for what its parsers reject
        kinds = {"validation-error"}
    else:
        kinds = set(documented["content"][PROBLEM_CONTENT_TYPE].get("examples", {}))
    kind = response.json().get("type", "").removeprefix("/problems/")
    if kind not in kinds:
        raise AssertionError(
            f"{case.operation.label} answered {code} {kind}, but lists only {', '.join(sorted(kinds))} "
            f"for {code}: {response.text[:300]}"
        )
    return None


# Rules JSON Schema cannot state (the API documents them in words), so data valid by the
# schema may break them, and the documented 4xx is then the right answer. Any other
# rejection of schema-valid data fails `positive_data_acceptance`, as by default.
UNSTATED_FIELD_RULES = {
    ("date", "Must be in the future."),  # the clock decides
    ("sale_starts_at", "Must be before the event's date."),  # a PATCH compares with the stored date
    ("image_url", "Not a valid URL."),  # http(s) only, and a real host (with a TLD, ...)
    ("url", "Not a valid URL."),  # a webhook endpoint's: the same
    ("password", "Must be 8 to 72 bytes of UTF-8."),  # bytes (bcrypt's limit), not characters
    ("_request", "Text must not contain NUL (0x00) characters."),  # PostgreSQL text cannot hold U+0000
    ("email", "This is your own account: you already hold this ticket."),  # who is asking decides
    ("price", "Must equal the first ticket type's price (or be omitted)."),  # equality across fields
    ("ticket_types", "Ticket type names must be unique within the event."),  # unique by one member
    *(
        (field, "Must not contain NUL characters.")
        for field in ("name", "location", "organization", "rating", "image_url", "description")
    ),
}
UNSTATED_PROBLEMS = {
    (None, "/problems/idempotency-key-reused"),  # the key's first request decides, not this one
    (IMAGE_UPLOAD, "/problems/unsupported-media-type"),  # the image type is read from its bytes
    (TRANSFER, "/problems/unknown-recipient"),  # whether an account has the email
    (CHECK_IN_BY_CODE, "/problems/invalid-ticket-code"),  # only the signing key makes a valid code
}


def _breaks_only_unstated_rules(case, response) -> bool:
    try:
        problem = response.json()
    except ValueError:
        return False
    kind = problem.get("type")
    if (None, kind) in UNSTATED_PROBLEMS or (case.operation.label, kind) in UNSTATED_PROBLEMS:
        return True
    errors = problem.get("errors") if kind == "/problems/validation-error" else None
    sent = {**(case.query or {}), **(case.body if isinstance(case.body, dict) else {})}
    return bool(errors) and _all_unstated(errors, sent)


def _all_unstated(errors: dict, sent) -> bool:
    """Every message, down nested objects and lists (`{"ticket_types": {"0": {"name": [...]}}}`),
    breaks only an unstated rule; `sent` follows the same path through the body."""
    for field, messages in errors.items():
        if isinstance(sent, list) and field.isdigit() and int(field) < len(sent):
            value = sent[int(field)]
        else:
            value = sent.get(field) if isinstance(sent, dict) else None
        if isinstance(messages, dict):
            if not _all_unstated(messages, value):
                return False
        elif not (isinstance(messages, list) and all(_unstated(field, m, value) for m in messages)):
            return False
    return True


def _unstated(field: str, message: str, sent) -> bool:
    if (field, message) in UNSTATED_FIELD_RULES:
        return True
    # A webhook endpoint's host must resolve, to public addresses (the network decides).
    if field == "url" and message.startswith(("The host ", "The URL")):
        return True
    # Names and emails are trimmed before their lengths are checked (as sent, they fit).
    return message.startswith("Length must be between") and isinstance(sent, str) and sent != sent.strip()


def positive_data_acceptance_but_unstated_rules(ctx, response, case):
    try:
        return positive_data_acceptance(ctx, response, case)
    except AssertionError:
        if _breaks_only_unstated_rules(case, response):
            return None
        raise


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def seeded(app, client, users, admin, buyer, make_event, buy, settle):
    """Fresh rows for each operation (the tables are emptied before each test): an admin,
    whose token the fuzzer sends, a buyer, the account of the login example, an event with
    an image, a deleted event, a PAID order and a PENDING one. Their ids go to SEEDED, the
    credentials to CREDENTIALS."""
    login = schema.raw_schema["paths"]["/api/v1/login"]["post"]["requestBody"]["content"]["application/json"]
    users.create(email=login["example"]["email"], password=login["example"]["password"])
    event = make_event(max_per_order=100)  # any schema-valid quantity (1-100) is allowed
    deleted = make_event(name="Deleted")
    assert client.delete(f"/api/v1/events/{deleted['id']}", headers=admin["headers"]).status_code == 204
    image = client.post(
        f"/api/v1/events/{event['id']}/image",
        data={"image": (io.BytesIO(PNG), "poster.png")},
        headers=admin["headers"],
    )
    assert image.status_code == 200, image.json
    paid = buy(event["id"], 2, user=admin)
    assert paid.status_code == 201, paid.json
    assert settle(paid.json["id"], "PAID").status_code == 204
    pending = buy(event["id"], 1)
    assert pending.status_code == 201, pending.json
    SEEDED.update(
        event_id=[event["id"], deleted["id"]],
        order_id=[paid.json["id"], pending.json["id"]],
        ticket_id=[ticket["id"] for ticket in paid.json["tickets"]],
        user_id=[admin["id"], buyer["id"]],
        name=[image.json["image_url"].rsplit("/", 1)[1]],
    )
    CREDENTIALS.update(
        bearerAuth=("Authorization", f"Bearer {admin['token']}"),
        webhookSecret=("X-Webhook-Secret", WEBHOOK_SECRET),
    )
    spec_app, TEST_APP.app = TEST_APP.app, app
    yield
    TEST_APP.app = spec_app
    SEEDED.clear()
    CREDENTIALS.clear()


def call_and_validate(case, **kwargs):
    return case.call_and_validate(
        **kwargs,
        excluded_checks=[positive_data_acceptance],
        additional_checks=[positive_data_acceptance_but_unstated_rules, documented_answer],
    )


@schema.parametrize()
@settings(
    max_examples=40,  # per operation, in the fuzzing phase (the examples and coverage phases add theirs)
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_api_matches_its_spec(case, seeded):
    call_and_validate(case)


def test_image_upload_matches_its_spec(seeded):
    """The fuzzer cannot make a real image, so one explicit example covers the 200."""
    operation = schema["/api/v1/events/{event_id}/image"]["POST"]
    case = operation.Case(
        path_parameters={"event_id": SEEDED["event_id"][0]},
        body={"image": PNG},
        media_type="multipart/form-data",
    )
    header, token = CREDENTIALS["bearerAuth"]
    assert call_and_validate(case, headers={header: token}).status_code == 200


def test_the_fuzzed_spec_is_the_served_one(client):
    assert json.loads(client.get(SPEC_PATH).data) == schema.raw_schema
