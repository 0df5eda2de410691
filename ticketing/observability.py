"""One JSON line per request on stdout, the X-Request-ID that ties lines together, and
the request metrics (`http_requests_total`, `http_request_duration_seconds`)."""

from __future__ import annotations

import re
import sys
import time
import uuid

import orjson
from flask import g, request

from ticketing import metrics

_VALID_REQUEST_ID = re.compile(r"^[\x21-\x7e]{1,128}$")
_CONVERTER = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
UNMATCHED = "unmatched"  # no route matched (404, 405): one label for every such path
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

_routes: dict[str, str] = {}


def route_label(rule) -> str:
    """The OpenAPI form of the matched URL rule (`/api/v1/orders/{order_id}`), never a raw path."""
    if rule is None:
        return UNMATCHED
    text = rule.rule
    label = _routes.get(text)
    if label is None:
        label = _routes[text] = _CONVERTER.sub(r"{\1}", text)
    return label


def record(route: str, method: str, status: int, seconds: float) -> None:
    if method not in _METHODS:  # any token is a method to HTTP: keep the label set bounded
        method = "OTHER"
    metrics.request(route, method, status, seconds)


def request_id(incoming: str) -> str:
    """The client's X-Request-ID if it is a sane one, else a new one."""
    return incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex


def log(method: str, path: str, status: int, elapsed, request_id: str, remote_addr, principal) -> None:
    """The request's JSON line on stdout (also written by the waiting room's fast lane,
    ticketing/queue/fastlane.py, for the requests it answers)."""
    line = {
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round(elapsed * 1000, 2) if elapsed is not None else None,
        "request_id": request_id,
        # The client's address: behind the front door, the one nginx saw (ProxyFix).
        "remote_addr": remote_addr,
    }
    if principal is not None:
        line["user_id"] = principal.id
    sys.stdout.write(orjson.dumps(line).decode() + "\n")
    sys.stdout.flush()


def register(app):
    @app.before_request
    def _start():
        g.started = time.perf_counter()
        g.request_id = request_id(request.headers.get("X-Request-ID", ""))

    @app.after_request
    def _log(response):
        rid = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Request-ID"] = rid
        started = g.get("started")
        elapsed = time.perf_counter() - started if started else None
        if elapsed is not None:
            record(route_label(request.url_rule), request.method, response.status_code, elapsed)
        log(
            request.method,
            request.path,
            response.status_code,
            elapsed,
            rid,
            request.remote_addr,
            g.get("principal"),
        )
        return response
