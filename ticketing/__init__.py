"""ticketing: a ticket-sales REST API. `create_app()` wires everything together."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from types import FunctionType

import orjson
from flask import Flask
from flask.json.provider import JSONProvider

from ticketing import docs, errors, observability
from ticketing.api import API_PREFIX, Api
from ticketing.config import Settings, load_settings
from ticketing.db import Database


class OrjsonProvider(JSONProvider):
    """orjson out (fast, UTC datetimes); stdlib in with floats as Decimal (exact money)."""

    def dumps(self, obj, **kwargs):
        return orjson.dumps(obj, default=_json_default).decode()

    def loads(self, s, **kwargs):
        return json.loads(s, parse_float=Decimal)

    def response(self, *args, **kwargs):
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(orjson.dumps(obj, default=_json_default), mimetype="application/json")


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

    api = Api(app)
    docs.register(app, api)

    from ticketing.events.routes import blp as events_blp
    from ticketing.health import blp as health_blp
    from ticketing.images import storage as image_storage
    from ticketing.images.routes import blp as images_blp
    from ticketing.orders.routes import blp as orders_blp
    from ticketing.outbox.routes import blp as outbox_blp
    from ticketing.payments.routes import blp as payments_blp
    from ticketing.tickets.routes import blp as tickets_blp
    from ticketing.users.admin_routes import blp as admin_users_blp
    from ticketing.users.routes import blp as users_blp
    from ticketing.webhooks.routes import blp as webhooks_blp

    api.register_blueprint(health_blp)
    api.register_blueprint(users_blp, url_prefix=API_PREFIX)
    api.register_blueprint(admin_users_blp, url_prefix=API_PREFIX)
    api.register_blueprint(events_blp, url_prefix=API_PREFIX)
    api.register_blueprint(orders_blp, url_prefix=API_PREFIX)
    api.register_blueprint(webhooks_blp, url_prefix=API_PREFIX)
    api.register_blueprint(payments_blp, url_prefix=API_PREFIX)
    api.register_blueprint(outbox_blp, url_prefix=API_PREFIX)
    api.register_blueprint(tickets_blp, url_prefix=API_PREFIX)
    app.extensions["ticketing.images"] = image_storage.from_settings(settings)
    api.register_blueprint(images_blp, url_prefix=API_PREFIX)

    app.register_error_handler(errors.ApiError, errors.handle_api_error)
    app.register_error_handler(Exception, errors.handle_unexpected)
    observability.register(app)

    from ticketing import commands

    commands.register(app)
    return app
