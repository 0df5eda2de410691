"""Domain errors and their single mapping to RFC 9457 problem+json responses.

Every error a client can see is listed in PROBLEMS (type -> status, title); the README's
error catalogue is this table. Views raise these exceptions; nothing else builds errors.
"""

from __future__ import annotations

import logging

import orjson
from flask import Response, request
from werkzeug.exceptions import HTTPException

PROBLEM_CONTENT_TYPE = "application/problem+json"
log = logging.getLogger("ticketing")

PROBLEMS: dict[str, tuple[int, str]] = {
    "malformed-request": (400, "Malformed request"),
    "unauthorized": (401, "Not authenticated"),
    "invalid-credentials": (401, "Invalid credentials"),
    "invalid-webhook-secret": (401, "Invalid webhook secret"),
    "forbidden": (403, "Forbidden"),
    "current-password-required": (403, "Current password required"),
    "wrong-current-password": (403, "Wrong current password"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "email-taken": (409, "Email already registered"),
    "last-admin": (409, "Cannot demote the last admin"),
    "sold-out": (409, "Sold out"),
    "event-closed": (409, "Event closed"),
    "invalid-transition": (409, "Invalid status transition"),
    "payment-after-expiry": (409, "Payment arrived after the hold expired"),
    "capacity-below-sold": (409, "Capacity below tickets sold"),
    "already-checked-in": (409, "Ticket already checked in"),
    "ticket-cancelled": (409, "Ticket cancelled"),
    "ticket-not-paid": (409, "Ticket not paid"),
    "payload-too-large": (413, "Payload too large"),
    "unsupported-media-type": (415, "Unsupported media type"),
    "validation-error": (422, "Validation error"),
    "idempotency-key-reused": (422, "Idempotency key reused with another request"),
    "service-unavailable": (503, "Service unavailable"),
    "internal-error": (500, "Internal server error"),
}

_BY_STATUS = {
    400: "malformed-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "invalid-transition",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    503: "service-unavailable",
}


class ApiError(Exception):
    """An error with a stable problem type; its status and title come from PROBLEMS."""

    kind = "internal-error"

    def __init__(self, detail: str | None = None, *, kind: str | None = None, headers=None, **extra):
        super().__init__(detail)
        self.kind = kind or self.kind
        self.status, self.title = PROBLEMS[self.kind]
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict:
        return problem_body(self.kind, self.detail, **self.extra)


class BadRequest(ApiError):
    kind = "malformed-request"


class Unauthorized(ApiError):
    kind = "unauthorized"

    def __init__(self, detail=None, **kw):
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class Forbidden(ApiError):
    kind = "forbidden"


class NotFound(ApiError):
    kind = "not-found"


class Conflict(ApiError):
    kind = "invalid-transition"


class ValidationFailed(ApiError):
    kind = "validation-error"

    def __init__(self, errors: dict, detail="The request has invalid fields"):
        super().__init__(detail, errors=errors)


class ServiceUnavailable(ApiError):
    kind = "service-unavailable"

    def __init__(self, detail=None, *, retry_after: int = 2):
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


def problem_body(kind: str, detail: str | None = None, *, status: int | None = None, **extra) -> dict:
    default_status, title = PROBLEMS[kind]
    body = {"type": f"/problems/{kind}", "title": title, "status": status or default_status}
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    body.update(extra)
    return body


def problem(kind: str, detail: str | None = None, *, status: int | None = None, headers=None, **extra):
    body = problem_body(kind, detail, status=status, **extra)
    response = Response(orjson.dumps(body), status=body["status"], content_type=PROBLEM_CONTENT_TYPE)
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
            else problem("malformed-request", error.description, status=code)
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
    return problem("internal-error", "Something went wrong on our side")
