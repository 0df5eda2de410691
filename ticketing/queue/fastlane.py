"""The waiting room's fast lane: a successful join or poll answered in front of Flask.

In a rush, joins and polls are most of the traffic, and on 2 cores the Python per request
is what limits them: Flask's request context, URL matching, the view decorators and the
response object cost about as much as everything this endpoint really does. So this WSGI
layer (inside ProxyFix, so the client's address is the one nginx saw) takes
`POST|GET /api/v1/events/{event_id}/queue` with a bearer token, runs the same service
function as the view (ticketing/queue/routes.py: service.join / service.my_entry, the
same one SQL statement) and, when that succeeds, answers exactly as the view would: the
same status, JSON bytes (schemas.entry_json), Retry-After, the security headers
(headers.API_DEFAULTS), X-Request-ID, the request log line and the request metrics.

Everything else goes to Flask untouched: other paths and methods, a missing or bad token,
and every refusal (unknown event, no waiting room, started, revoked token, database
unavailable, any error). Those go through Flask again from the start, so their answers
are exactly Flask's; the statement that refused changed nothing (join.sql only inserts
for a caller it accepts), so running it twice is safe. tests/test_queue.py compares both
lanes header by header.
"""

from __future__ import annotations

import re
import time
import uuid
from http import HTTPStatus

from ticketing import headers, observability, security
from ticketing.api import API_PREFIX
from ticketing.queue import service
from ticketing.queue.schemas import entry_json

ENDPOINT = "queue.Queue"  # the view this lane answers for (routes.Queue)
# werkzeug's UUIDConverter pattern: the lane takes exactly the paths the route matches.
_UUID = r"[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}"
_PATH = re.compile(re.escape(API_PREFIX) + rf"/events/({_UUID})/queue")
_STATUS = {code: f"{code} {HTTPStatus(code).phrase.upper()}" for code in (200, 201)}


class FastLane:
    """WSGI middleware: `app` is the Flask app (its settings and contexts), `inner` the
    WSGI app to hand everything else to (Flask's own wsgi_app)."""

    def __init__(self, app, inner):
        self.app = app
        self.inner = inner
        self.secret = app.config["SETTINGS"].jwt_secret
        rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == ENDPOINT)
        if _PATH.fullmatch(rule.rule.replace("<uuid:event_id>", str(uuid.UUID(int=0)))) is None:
            raise RuntimeError(f"the queue route {rule.rule} no longer matches the fast lane's path")
        self.route = observability.route_label(rule)

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        if method != "POST" and method != "GET":
            return self.inner(environ, start_response)
        match = _PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match is None:
            return self.inner(environ, start_response)
        started = time.perf_counter()
        answer = self._answer(environ, method, match[1])
        if answer is None:
            return self.inner(environ, start_response)
        principal, entry, status = answer
        body = entry_json(entry)
        request_id = observability.request_id(environ.get("HTTP_X_REQUEST_ID", ""))
        response_headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        if entry["retry_after"] is not None:
            response_headers.append(("Retry-After", str(entry["retry_after"])))
        response_headers.extend(headers.API_DEFAULTS)
        response_headers.append(("X-Request-ID", request_id))
        start_response(_STATUS[status], response_headers)
        elapsed = time.perf_counter() - started
        observability.record(self.route, method, status, elapsed)
        observability.log(
            method, environ["PATH_INFO"], status, elapsed, request_id, environ.get("REMOTE_ADDR"), principal
        )
        return [body]

    def _answer(self, environ, method: str, event_id: str):
        """(principal, entry, status) when the caller gets their entry; None for Flask."""
        token = security.bearer_token(environ.get("HTTP_AUTHORIZATION", ""))
        if token is None:
            return None
        try:
            principal = security.decode_token(token, self.secret)
            with self.app.app_context():
                if method == "POST":
                    entry, created = service.join(principal, uuid.UUID(event_id))
                    return principal, entry, 201 if created else 200
                return principal, service.my_entry(principal, uuid.UUID(event_id)), 200
        except Exception:  # every refusal and error is Flask's to answer, as it always was
            return None
