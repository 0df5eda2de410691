"""The purchase's fast lane: a plain purchase answered in front of Flask.

In a rush, purchases are most of the traffic, and on 2 cores the Python per request is
what limits them: Flask's request context, URL matching, flask-smorest's and webargs'
wrappers and the header proxy cost more than the purchase itself. So this WSGI layer
(inside ProxyFix and the waiting room's lane) takes `POST /api/v1/orders` when it is a
plain purchase whose parsing cannot fail: a bearer token that verifies, `Content-Type:
application/json`, a body within MAX_BODY_BYTES that is exactly the fields of PurchaseIn
with values PurchaseIn accepts as they are (canonical UUIDs, an integer quantity 1..100),
an Idempotency-Key (if any) that PurchaseHeaders accepts, no SCRIPT_NAME. It runs the same
service function as the view (ticketing/orders/routes.py: service.purchase, the batcher,
the same statements) and, when it sells, answers exactly as the view would: 201, the same JSON
bytes (OrderOut, written out: schemas.order_out), Location, the security headers
(headers.API_DEFAULTS), X-Request-ID, the request log line and the request metrics.

Everything else goes to Flask untouched (with the body, if the lane read it): other paths
and methods, every request it does not take, and every purchase that did not sell. A
purchase is not idempotent, so one the lane ran is never run again: what service.purchase
gave when it did not sell (the exception it raised: sold out, any refusal, the database
unavailable, a bug; or an Idempotency-Key's replayed answer) travels to Flask in the
environ (`OUTCOME`) and the view uses it instead of buying, so the answer, its headers,
the log line and the metrics are Flask's own, and the purchase ran once.
tests/test_orders_fastlane.py compares both lanes header by header and body by body.
"""

from __future__ import annotations

import io
import re
import time
import uuid

import orjson

from ticketing import headers, observability, security
from ticketing.api import API_PREFIX

ENDPOINT = "orders.Orders"  # the view this lane answers for (routes.Orders.post)
PATH = f"{API_PREFIX}/orders"
# Set in the environ when the lane ran the purchase and did not answer it: the exception
# service.purchase raised, or the Answer it returned (a replay): the view uses it.
OUTCOME = "ticketing.purchase_outcome"
STATUS = "201 CREATED"
_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_FIELDS = frozenset({"event_id", "quantity", "ticket_type_id"})
_DIGITS = re.compile(r"[0-9]{1,9}")
_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # PurchaseHeaders.idempotency_key's rule


class PurchaseLane:
    """WSGI middleware: `app` is the Flask app (its settings and contexts), `inner` the
    WSGI app to hand everything else to."""

    def __init__(self, app, inner):
        from ticketing import _json_default, strict_loads
        from ticketing.orders.schemas import order_out

        self.app = app
        self.inner = inner
        settings = app.config["SETTINGS"]
        self.secret = settings.jwt_secret
        self.max_body = app.config["MAX_CONTENT_LENGTH"]
        self.loads = strict_loads
        self.default = _json_default
        self.order_out = order_out
        rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == ENDPOINT)
        if rule.rule != PATH or "POST" not in rule.methods:
            raise RuntimeError(f"the orders route {rule.rule} no longer matches the purchase lane's path")
        self.route = observability.route_label(rule)

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.inner(environ, start_response)
        started = time.perf_counter()
        taken = self._take(environ)
        if taken is None:
            return self.inner(environ, start_response)
        principal, fields = taken
        from ticketing.orders import service

        body = None
        # A key's problem is stored as the view would render it (its `instance` is the
        # request's path): keyed purchases run in a request context, the others need only
        # the app's.
        keyed = fields["idempotency_key"] is not None
        with self.app.request_context(environ) if keyed else self.app.app_context():
            try:
                answer = service.purchase(principal, **fields)
                if answer.replayed or answer.order is None:  # a key's first answer: Flask renders it
                    environ[OUTCOME] = answer
                else:
                    order = answer.order
                    body = orjson.dumps(self.order_out(service.shown(principal, order)), default=self.default)
            except Exception as error:  # nothing sold, or not known: Flask answers, without buying
                environ[OUTCOME] = error
        if body is None:
            return self.inner(environ, start_response)
        request_id = observability.request_id(environ.get("HTTP_X_REQUEST_ID", ""))
        response_headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Location", f"{PATH}/{order['id']}"),
            *headers.API_DEFAULTS,
            ("X-Request-ID", request_id),
        ]
        start_response(STATUS, response_headers)
        elapsed = time.perf_counter() - started
        observability.record(self.route, "POST", 201, elapsed)
        observability.log("POST", PATH, 201, elapsed, request_id, environ.get("REMOTE_ADDR"), principal)
        return [body]

    def _take(self, environ):
        """(principal, the purchase's fields) when the view would get exactly these from
        this request; None for Flask (the body put back if it was read)."""
        key = environ.get("HTTP_IDEMPOTENCY_KEY")
        if (
            environ.get("CONTENT_TYPE") != "application/json"
            or (key is not None and _KEY.fullmatch(key) is None)
            or "HTTP_TRANSFER_ENCODING" in environ
            or environ.get("SCRIPT_NAME")
        ):
            return None
        length = environ.get("CONTENT_LENGTH") or ""
        if not _DIGITS.fullmatch(length) or not 0 < int(length) <= self.max_body:
            return None
        token = security.bearer_token(environ.get("HTTP_AUTHORIZATION", ""))
        if token is None:
            return None
        try:
            principal = security.decode_token(token, self.secret)
        except Exception:  # 401: Flask's to answer
            return None
        try:
            data = environ["wsgi.input"].read(int(length))
        except Exception:  # the client went away: Flask finds out again and answers
            return None
        environ["wsgi.input"] = io.BytesIO(data)  # whoever reads it next reads it whole
        try:
            body = self.loads(data)
        except Exception:  # 400: Flask's to answer
            return None
        if type(body) is not dict or not _FIELDS.issuperset(body):
            return None
        event_id, quantity = body.get("event_id"), body.get("quantity")
        ticket_type_id = body.get("ticket_type_id")
        if (
            type(quantity) is not int
            or not 1 <= quantity <= 100
            or not _canonical_uuid(event_id)
            or not (ticket_type_id is None or _canonical_uuid(ticket_type_id))
        ):
            return None
        return principal, {
            "event_id": uuid.UUID(event_id),
            "quantity": quantity,
            "ticket_type_id": None if ticket_type_id is None else uuid.UUID(ticket_type_id),
            "idempotency_key": key,
            "queue_pass": environ.get("HTTP_QUEUE_PASS"),
        }


def _canonical_uuid(value) -> bool:
    return type(value) is str and _CANONICAL_UUID.fullmatch(value) is not None
