"""ticketing: a ticket-sales REST API. `create_app()` wires everything together."""

from __future__ import annotations

import json
import logging
import re
from decimal import Decimal
from types import FunctionType

import orjson
from flask import Flask
from flask.json.provider import JSONProvider
from werkzeug.middleware.proxy_fix import ProxyFix

from ticketing import docs, errors, headers, observability
from ticketing.api import API_PREFIX, Api
from ticketing.config import Settings, load_settings
from ticketing.db import Database


class OrjsonProvider(JSONProvider):
    """orjson out (fast, UTC datetimes); stdlib in with floats as Decimal (exact money),
    strictly: see `strict_loads`."""

    def dumps(self, obj, **kwargs):
        return orjson.dumps(obj, default=_json_default).decode()

    def loads(self, s, **kwargs):
        return strict_loads(s)

    def response(self, *args, **kwargs):
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(orjson.dumps(obj, default=_json_default), mimetype="application/json")


# Longer integers stay Decimal: int() of a long digit string is quadratic (Python refuses
# more than 4300 digits with a ValueError), and no field takes an integer this long, so a
# strict Integer field rejects the Decimal (422) and Money sees it is too large.
MAX_INT_DIGITS = 40
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _parse_int(text: str):
    return int(text) if len(text) <= MAX_INT_DIGITS else Decimal(text)


def _reject_constant(name: str):
    raise errors.BadRequest(f"{name} is not JSON: numbers must be finite")


def _unique_members(pairs: list) -> dict:
    members = dict(pairs)
    if len(members) != len(pairs):
        seen = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise errors.BadRequest(f"The member {duplicate!r} appears twice in one object")
    return members


def _lone_surrogate(value) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_lone_surrogate(k) or _lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_lone_surrogate(item) for item in value)
    return False


def strict_loads(data: str | bytes):
    """A JSON document as Python, or BadRequest (400) for what JSON allows but nothing can
    use: NaN/Infinity, a member twice in one object, a lone surrogate escape ("\\ud800",
    not Unicode text: it cannot be stored or even encoded). Bytes must be UTF-8 (RFC 8259;
    UnicodeDecodeError, which the parser answers 400). Floats are Decimal; no number ever
    becomes a huge string or a huge int."""
    text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    value = json.loads(
        text,
        parse_float=Decimal,
        parse_int=_parse_int,
        parse_constant=_reject_constant,
        object_pairs_hook=_unique_members,
    )
    if _SURROGATE_ESCAPE.search(text) and _lone_surrogate(value):
        raise errors.BadRequest("The body has a lone surrogate escape (\\ud800-\\udfff): not Unicode text")
    return value


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


class App(Flask):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sync_views = {}

    def ensure_sync(self, func):
        # Flask asks inspect whether each of the ~20 view wrappers of a request is a
        # coroutine, on every request. Our views are sync: remember each answer.
        known = self._sync_views.get(func)
        if known is None:
            known = super().ensure_sync(func)
            if type(func) is FunctionType:  # bound methods are new objects every time
                self._sync_views[func] = known
        return known


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    app = App(__name__)
    app.json = OrjsonProvider(app)
    app.config.update(
        SETTINGS=settings,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        API_TITLE="ticketing",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/swagger/index.html",
        OPENAPI_SWAGGER_UI_URL=f"{API_PREFIX}/swagger/",
        API_SPEC_OPTIONS=docs.SPEC_OPTIONS,
    )
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pgserver").setLevel(logging.WARNING)

    app.extensions["ticketing.db"] = Database(settings)
    app.extensions["ticketing.purchase_batcher"] = _purchase_batcher(settings)
    app.extensions["ticketing.join_batcher"] = _queue_batcher(settings, "join")
    app.extensions["ticketing.poll_batcher"] = _queue_batcher(settings, "poll")

    api = Api(app)
    docs.register(app, api)

    from ticketing.events.routes import blp as events_blp
    from ticketing.health import blp as health_blp
    from ticketing.images import storage as image_storage
    from ticketing.images.routes import blp as images_blp
    from ticketing.orders.routes import blp as orders_blp
    from ticketing.outbox.routes import blp as outbox_blp
    from ticketing.payments.routes import blp as payments_blp
    from ticketing.queue.routes import blp as queue_blp
    from ticketing.tickets.routes import blp as tickets_blp
    from ticketing.users.admin_routes import blp as admin_users_blp
    from ticketing.users.routes import blp as users_blp
    from ticketing.webhooks.routes import blp as webhooks_blp

    api.register_blueprint(health_blp)
    api.register_blueprint(users_blp, url_prefix=API_PREFIX)
    api.register_blueprint(admin_users_blp, url_prefix=API_PREFIX)
    api.register_blueprint(events_blp, url_prefix=API_PREFIX)
    api.register_blueprint(orders_blp, url_prefix=API_PREFIX)
    api.register_blueprint(queue_blp, url_prefix=API_PREFIX)
    api.register_blueprint(webhooks_blp, url_prefix=API_PREFIX)
    api.register_blueprint(payments_blp, url_prefix=API_PREFIX)
    api.register_blueprint(outbox_blp, url_prefix=API_PREFIX)
    api.register_blueprint(tickets_blp, url_prefix=API_PREFIX)
    app.extensions["ticketing.images"] = image_storage.from_settings(settings)
    api.register_blueprint(images_blp, url_prefix=API_PREFIX)

    app.register_error_handler(errors.ApiError, errors.handle_api_error)
    app.register_error_handler(Exception, errors.handle_unexpected)
    observability.register(app)
    headers.register(app)

    from ticketing import commands
    from ticketing.orders.fastlane import PurchaseLane
    from ticketing.queue.fastlane import FastLane

    commands.register(app)
    # Exactly one proxy hop is trusted: the front door's nginx, which sets X-Forwarded-For
    # to the address it saw and X-Forwarded-Proto to its scheme (docs/deployment.md).
    # Inside it, the waiting room's successful joins and polls skip Flask (its fast lane),
    # and so do plain purchases that sell (the purchase lane, ticketing/orders/fastlane.py).
    app.wsgi_app = ProxyFix(FastLane(app, PurchaseLane(app, app.wsgi_app)), x_for=1, x_proto=1)
    return app


def _purchase_batcher(settings):
    """The per-process purchase batcher (PURCHASE_BATCHING=on), or None."""
    if not settings.purchase_batching:
        return None
    from ticketing.orders.batching import Batcher
    from ticketing.orders.machine_lock import MachineLock

    return Batcher(
        max_size=settings.purchase_batch_max,
        window_seconds=settings.purchase_batch_window_seconds,
        wait_seconds=settings.purchase_batch_wait_seconds,
        # a member of a running batch waits for it: its connection, then its statement
        settle_seconds=(settings.db_pool_timeout_ms + settings.db_statement_timeout_ms) / 1000 + 1,
        machine_lock=MachineLock(settings.purchase_lock_file) if settings.purchase_lock_file else None,
    )


def _queue_batcher(settings, kind: str):
    """The per-process batcher of waiting-room joins or polls (QUEUE_BATCHING=on), or None."""
    if not settings.queue_batching:
        return None
    from ticketing import metrics
    from ticketing.orders.batching import Batcher

    return Batcher(
        max_size=settings.queue_batch_max,
        window_seconds=0.0,  # a lone caller waits for nobody
        wait_seconds=settings.queue_batch_wait_seconds,
        settle_seconds=(settings.db_pool_timeout_ms + settings.db_statement_timeout_ms) / 1000 + 1,
        record=metrics.queue_join_batch if kind == "join" else metrics.queue_poll_batch,
    )
