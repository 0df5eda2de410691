"""OpenAPI document options and the self-hosted Swagger UI (no CDN at run time)."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from flask import abort, redirect, send_from_directory

from ticketing.api import API_PREFIX

SWAGGER_DIR = Path(swagger_ui_bundle.swagger_ui_path)
SWAGGER_ASSETS = {
    "swagger-ui.css",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "favicon-16x16.png",
    "favicon-32x32.png",
}

DESCRIPTION = """\
Ticket sales for events with a fixed capacity: sign up, log in, buy tickets, and let the
payment provider confirm each order through a webhook.

* Authenticate with `Authorization: Bearer <token>` from `POST /api/v1/login`.
* Every error is `application/problem+json` (RFC 9457); branch on its `type`.
* Money is a decimal string with two places (`"100.00"`); times are RFC 3339 in UTC.
* Lists take `page` and `page_size` (max 100) and return an `X-Pagination` header.
"""

SPEC_OPTIONS = {
    "info": {"description": DESCRIPTION},
    "components": {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            "webhookSignature": {
                "type": "apiKey",
                "in": "header",
                "name": "Webhook-Signature",
                "description": "`t=<unix seconds>,v1=<hex>`: the hex is HMAC-SHA256(secret, "
                "`<t>.<raw body>`) with a `WEBHOOK_SECRET`; `t` within `WEBHOOK_TOLERANCE_SECONDS`.",
            },
            "webhookSecret": {
                "type": "apiKey",
                "in": "header",
                "name": "X-Webhook-Secret",
                "description": "The original static secret; refused when `WEBHOOK_REQUIRE_SIGNATURE=true`.",
            },
        }
    },
}


def register(app, api):
    @app.get(f"{API_PREFIX}/swagger")
    @app.get(f"{API_PREFIX}/swagger/")
    def swagger_redirect():
        return redirect(f"{API_PREFIX}/swagger/index.html", code=302)

    @app.get(f"{API_PREFIX}/swagger/<name>")
    def swagger_asset(name):
        if name not in SWAGGER_ASSETS:
            abort(404)
        response = send_from_directory(SWAGGER_DIR, name, max_age=86400)
        return response
