"""OpenAPI document options and the self-hosted Swagger UI (no CDN at run time)."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from flask import abort, redirect, request, send_from_directory

from ticketing.api import API_PREFIX

SWAGGER_DIR = Path(swagger_ui_bundle.swagger_ui_path)
SWAGGER_ASSETS = {
    "swagger-ui.css",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "favicon-16x16.png",
    "favicon-32x32.png",
}
OWN_DIR = Path(__file__).resolve().parent / "static"
OWN_ASSETS = {"swagger-init.js"}  # starts the UI: the page has no inline script
# The Swagger UI page (templates/swagger_ui.html): scripts only from this origin, no inline
# script, no eval; Swagger UI sets inline styles and draws its icons as data: images; the
# spec and "Try it out" calls go to this origin only.
SWAGGER_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SWAGGER_UI_ENDPOINT = "api-docs.openapi_swagger_ui"

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
    # Paths start at the origin (/api/v1/..., /healthz): the server is wherever this
    # document was fetched from.
    "servers": [{"url": "/", "description": "The server that serves this document"}],
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
        if name in OWN_ASSETS:
            return send_from_directory(OWN_DIR, name, max_age=3600)
        if name not in SWAGGER_ASSETS:
            abort(404)
        response = send_from_directory(SWAGGER_DIR, name, max_age=86400)
        return response

    @app.after_request
    def _swagger_ui_policy(response):
        if request.endpoint == SWAGGER_UI_ENDPOINT:
            response.headers["Content-Security-Policy"] = SWAGGER_CSP
        return response
