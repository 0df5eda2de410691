"""Domain errors and their single mapping to RFC 9457 problem+json responses.

Every error a client can see is a `Kind` defined below, once, by name (type slug, status,
title); code raises and documents errors by those names, so a typo fails at lint time,
not at request time. PROBLEMS is the same table by slug; docs/errors.md is its catalogue.
"""

from __future__ import annotations

import logging

import orjson
from flask import Response, request
from werkzeug.exceptions import HTTPException

PROBLEM_CONTENT_TYPE = "application/problem+json"
log = logging.getLogger("ticketing")

PROBLEMS: dict[str, tuple[int, str]] = {}
_KINDS: dict[str, Kind] = {}


class Kind(str):
    """A problem type: the slug of its `type` URI (`/problems/<slug>`), with its HTTP
    status and title. It is a `str` (the slug), so it reads and compares like one."""

    status: int
    title: str

    def __new__(cls, slug: str, status: int, title: str) -> Kind:
        if slug in PROBLEMS:
            raise ValueError(f"problem type {slug!r} is defined twice")
        kind = super().__new__(cls, slug)
        kind.status, kind.title = status, title
        PROBLEMS[slug] = (status, title)
        _KINDS[slug] = kind
        return kind

    @property
    def uri(self) -> str:
        return f"/problems/{self}"

    def __reduce__(self):  # copies and pickles are the one defined Kind, not a second one
        return _KINDS.__getitem__, (str(self),)


MALFORMED_REQUEST = Kind("malformed-request", 400, "Malformed request")
UNAUTHORIZED = Kind("unauthorized", 401, "Not authenticated")
INVALID_CREDENTIALS = Kind("invalid-credentials", 401, "Invalid credentials")
INVALID_WEBHOOK_SECRET = Kind("invalid-webhook-secret", 401, "Invalid webhook secret")
INVALID_WEBHOOK_SIGNATURE = Kind("invalid-webhook-signature", 401, "Invalid webhook signature")
FORBIDDEN = Kind("forbidden", 403, "Forbidden")
QUEUE_PASS_REQUIRED = Kind("queue-pass-required", 403, "Queue pass required")
CURRENT_PASSWORD_REQUIRED = Kind("current-password-required", 403, "Current password required")
WRONG_CURRENT_PASSWORD = Kind("wrong-current-password", 403, "Wrong current password")
NOT_FOUND = Kind("not-found", 404, "Not found")
METHOD_NOT_ALLOWED = Kind("method-not-allowed", 405, "Method not allowed")
EMAIL_TAKEN = Kind("email-taken", 409, "Email already registered")
LAST_ADMIN = Kind("last-admin", 409, "Cannot demote the last admin")
SOLD_OUT = Kind("sold-out", 409, "Sold out")
EVENT_CLOSED = Kind("event-closed", 409, "Event closed")
SALE_NOT_STARTED = Kind("sale-not-started", 409, "Sale not started")
PER_USER_LIMIT = Kind("per-user-limit", 409, "Per-user ticket limit reached")
NO_QUEUE = Kind("no-queue", 409, "Event has no waiting room")
INVALID_TRANSITION = Kind("invalid-transition", 409, "Invalid status transition")
PAYMENT_AFTER_EXPIRY = Kind("payment-after-expiry", 409, "Payment arrived after the hold expired")
AMOUNT_MISMATCH = Kind("amount-mismatch", 409, "Payment amount or currency mismatch")
PAYMENT_ID_REUSED = Kind("payment-id-reused", 409, "Payment id already used for another order")
TICKET_ALREADY_USED = Kind("ticket-already-used", 409, "A ticket of the order was already used")
CAPACITY_BELOW_SOLD = Kind("capacity-below-sold", 409, "Capacity below tickets sold")
TICKET_TYPE_NAME_TAKEN = Kind("ticket-type-name-taken", 409, "Ticket type name already used by the event")
TICKET_TYPE_IN_USE = Kind("ticket-type-in-use", 409, "Ticket type has orders")
LAST_TICKET_TYPE = Kind("last-ticket-type", 409, "Cannot delete an event's last ticket type")
TOO_MANY_TICKET_TYPES = Kind("too-many-ticket-types", 409, "Event has the most ticket types allowed")
ALREADY_CHECKED_IN = Kind("already-checked-in", 409, "Ticket already checked in")
TICKET_CANCELLED = Kind("ticket-cancelled", 409, "Ticket cancelled")
TICKET_NOT_PAID = Kind("ticket-not-paid", 409, "Ticket not paid")
TICKET_CODE_REVOKED = Kind("ticket-code-revoked", 409, "Ticket code revoked")
WRONG_EVENT = Kind("wrong-event", 409, "Ticket for another event")
PAYLOAD_TOO_LARGE = Kind("payload-too-large", 413, "Payload too large")
UNSUPPORTED_MEDIA_TYPE = Kind("unsupported-media-type", 415, "Unsupported media type")
VALIDATION_ERROR = Kind("validation-error", 422, "Validation error")
INVALID_TICKET_CODE = Kind("invalid-ticket-code", 422, "Invalid ticket code")
UNKNOWN_RECIPIENT = Kind("unknown-recipient", 422, "Unknown recipient")
IDEMPOTENCY_KEY_REUSED = Kind("idempotency-key-reused", 422, "Idempotency key reused with another request")
RATE_LIMITED = Kind("rate-limited", 429, "Too many requests")
SERVICE_UNAVAILABLE = Kind("service-unavailable", 503, "Service unavailable")
INTERNAL_ERROR = Kind("internal-error", 500, "Internal server error")

# The problem type of an HTTP error raised outside our code (routing, werkzeug, webargs).
_BY_STATUS = {
    kind.status: kind
    for kind in (
        MALFORMED_REQUEST,
        UNAUTHORIZED,
        FORBIDDEN,
        NOT_FOUND,
        METHOD_NOT_ALLOWED,
        INVALID_TRANSITION,
        PAYLOAD_TOO_LARGE,
        UNSUPPORTED_MEDIA_TYPE,
        VALIDATION_ERROR,
        RATE_LIMITED,
        SERVICE_UNAVAILABLE,
    )
}


class ApiError(Exception):
    """An error with a stable problem type (a `Kind`), which gives its status and title."""

    kind: Kind = INTERNAL_ERROR

    def __init__(self, detail: str | None = None, *, kind: Kind | None = None, headers=None, **extra):
        super().__init__(detail)
        kind = kind or self.kind
        if not isinstance(kind, Kind):
            raise TypeError(f"kind must be a Kind defined in ticketing.errors, not {kind!r}")
        self.kind = kind
        self.status, self.title = kind.status, kind.title
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict:
        return problem_body(self.kind, self.detail, **self.extra)

    @classmethod
    def from_body(cls, body: dict, headers=None) -> ApiError:
        """The error a stored problem body describes (e.g. an idempotent replay)."""
        standard = {"type", "title", "status", "detail", "instance"}
        kind = _KINDS[body["type"].removeprefix("/problems/")]
        extra = {key: value for key, value in body.items() if key not in standard}
        return cls(body.get("detail"), kind=kind, headers=headers, **extra)


class BadRequest(ApiError):
    kind = MALFORMED_REQUEST


class Unauthorized(ApiError):
    kind = UNAUTHORIZED

    def __init__(self, detail=None, **kw):
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class Forbidden(ApiError):
    kind = FORBIDDEN


class NotFound(ApiError):
    kind = NOT_FOUND


class ValidationFailed(ApiError):
    kind = VALIDATION_ERROR

    def __init__(self, errors: dict, detail="The request has invalid fields"):
        super().__init__(detail, errors=errors)


class RateLimited(ApiError):
    kind = RATE_LIMITED

    def __init__(self, detail=None, *, retry_after: int):
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class ServiceUnavailable(ApiError):
    kind = SERVICE_UNAVAILABLE

    def __init__(self, detail=None, *, retry_after: int = 2):
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


def problem_body(kind: Kind, detail: str | None = None, *, status: int | None = None, **extra) -> dict:
    body = {"type": kind.uri, "title": kind.title, "status": status or kind.status}
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    body.update(extra)
    return body


def problem(kind: Kind, detail: str | None = None, *, status: int | None = None, headers=None, **extra):
    body = problem_body(kind, detail, status=status, **extra)
    # OPT_NON_STR_KEYS: a list's item errors are keyed by index (`{"ticket_types": {"0": ...}}`)
    response = Response(
        orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS),
        status=body["status"],
        content_type=PROBLEM_CONTENT_TYPE,
    )
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def handle_api_error(error: ApiError):
    return problem(error.kind, error.detail, headers=error.headers, **error.extra)


def _validation_errors(data) -> dict:
    """webargs nests messages under the location ({"json": {...}}); clients want fields."""
    messages = (data or {}).get("messages") or {}
    flat = {}
    for location_errors in messages.values():
        if isinstance(location_errors, dict):
            flat.update(location_errors)
        else:
            flat.setdefault("_body", []).extend(location_errors)
    return flat


def handle_http_exception(error: HTTPException):
    code = error.code or 500
    kind = _BY_STATUS.get(code)
    if kind is None:
        return (
            handle_unexpected(error)
            if code >= 500
            else problem(MALFORMED_REQUEST, error.description, status=code)
        )
    headers = {}
    if code == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    data = getattr(error, "data", None)
    if code == 422:
        errors = _validation_errors(data)
        return problem(kind, "The request has invalid fields", errors=errors)
    detail = {
        400: "The request body is not valid JSON",
        404: "No resource at this URL",
        405: f"{request.method} is not allowed here",
        413: "The request body is too large",
        415: "Send the body as application/json",
    }.get(code, error.description)
    if code == 400 and data and data.get("message"):
        detail = data["message"]
    return problem(kind, detail, headers=headers)


def handle_unexpected(error: BaseException):
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return problem(INTERNAL_ERROR, "Something went wrong on our side")
