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


def register(app):
    @app.before_request
    def _start():
        g.started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def _log(response):
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Request-ID"] = request_id
        started = g.get("started")
        elapsed = time.perf_counter() - started if started else None
        principal = g.get("principal")
        if elapsed is not None:
            record(route_label(request.url_rule), request.method, response.status_code, elapsed)
        line = {
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(elapsed * 1000, 2) if elapsed is not None else None,
            "request_id": request_id,
            # The client's address: behind the front door, the one nginx saw (ProxyFix).
            "remote_addr": request.remote_addr,
        }
        if principal is not None:
            line["user_id"] = principal.id
        sys.stdout.write(orjson.dumps(line).decode() + "\n")
        sys.stdout.flush()
        return response
