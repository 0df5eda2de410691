"""Headers every response carries (issue 9, §5): `X-Content-Type-Options: nosniff`;
`Cache-Control: no-store` unless the response set its own caching (the token, accounts,
orders and every other answer to a signed-in caller must never sit in a shared or browser
cache; only the Swagger assets and uploaded images say they may); and a Content-Security-
Policy that lets a JSON answer load nothing (the Swagger UI page has its own: docs.py)."""

from __future__ import annotations

API_CSP = "default-src 'none'; frame-ancestors 'none'"
# What a JSON answer that set none of these carries, in the order they are added (the
# waiting room's fast lane, ticketing/queue/fastlane.py, sends exactly these too).
API_DEFAULTS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Cache-Control", "no-store"),
    ("Content-Security-Policy", API_CSP),
)


def register(app):
    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers["X-Content-Type-Options"] = "nosniff"
        if "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
        if "Content-Security-Policy" not in headers:
            headers["Content-Security-Policy"] = API_CSP
        return response
