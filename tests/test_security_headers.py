"""Headers every answer carries, through a real gunicorn (issue 9, §5): no-store on the
token and on everything a signed-in caller gets, nosniff everywhere, a CSP everywhere, and
a Swagger UI page whose CSP allows no inline script (the page has none)."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from tests.support.timeouts import REQUEST_TIMEOUT
from ticketing.docs import SWAGGER_CSP


@pytest.fixture
def calls(live_server, buyer, admin, make_event, buy):
    event = make_event()
    order = buy(event["id"], 1)
    ticket = order.json["tickets"][0]["id"]
    as_buyer, as_admin = buyer["headers"], admin["headers"]
    return {
        "login": (
            "POST",
            "/api/v1/login",
            {"json": {"email": buyer["email"], "password": buyer["password"]}},
        ),
        "failed login": ("POST", "/api/v1/login", {"json": {"email": buyer["email"], "password": "nope"}}),
        "signup": (
            "POST",
            "/api/v1/signup",
            {"json": {"name": "N", "email": "new@example.com", "password": "password123"}},
        ),
        "me": ("GET", "/api/v1/me", {"headers": as_buyer}),
        "my orders": ("GET", "/api/v1/orders", {"headers": as_buyer}),
        "one order": ("GET", f"/api/v1/orders/{order.json['id']}", {"headers": as_buyer}),
        "purchase": (
            "POST",
            "/api/v1/orders",
            {"headers": as_buyer, "json": {"event_id": event["id"], "quantity": 1}},
        ),
        "ticket": ("GET", f"/api/v1/tickets/{ticket}", {"headers": as_buyer}),
        "users": ("GET", "/api/v1/users", {"headers": as_admin}),
        "events as admin": ("GET", "/api/v1/events?include_deleted=true", {"headers": as_admin}),
        "stats": ("GET", f"/api/v1/events/{event['id']}/stats", {"headers": as_admin}),
        "401": ("GET", "/api/v1/me", {"headers": {"Authorization": "Bearer nope"}}),
        "403": ("GET", "/api/v1/users", {"headers": as_buyer}),
        "public events": ("GET", "/api/v1/events", {}),
        "404": ("GET", "/api/v1/nowhere", {}),
        "spec": ("GET", "/api/v1/openapi.json", {}),
        "healthz": ("GET", "/healthz", {}),
    }


def test_nothing_a_signed_in_caller_gets_is_stored_and_nothing_is_sniffed(live_server, calls):
    for name, (method, path, kwargs) in calls.items():
        response = live_server.request(method, path, **kwargs)
        assert response.status_code < 500, (name, response.text)
        assert response.headers["X-Content-Type-Options"] == "nosniff", name
        assert response.headers["Cache-Control"] == "no-store", name
        assert "default-src 'none'" in response.headers["Content-Security-Policy"], name


def test_the_token_answer_is_no_store(live_server, buyer):
    response = live_server.post(
        "/api/v1/login", json={"email": buyer["email"], "password": buyer["password"]}
    )
    assert response.status_code == 200 and "token" in response.json()
    assert response.headers["Cache-Control"] == "no-store"


def test_static_assets_keep_their_caching_and_are_nosniff(live_server):
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-init.js"):
        response = live_server.get(f"/api/v1/swagger/{asset}")
        assert response.status_code == 200, asset
        assert "max-age=" in response.headers["Cache-Control"], asset
        assert response.headers["X-Content-Type-Options"] == "nosniff", asset


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inline_scripts, self.handlers, self.scripts = [], [], []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.handlers += [name for name in attrs if name.startswith("on")]
        if tag == "script":
            self._in_script = True
            if attrs.get("src"):
                self.scripts.append(attrs["src"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


def test_the_swagger_page_has_a_csp_and_nothing_inline_for_it_to_block(live_server):
    response = live_server.get("/api/v1/swagger/index.html")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert policy == SWAGGER_CSP
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"  # no inline script, no eval, no other origin
    assert directives["connect-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    page = _Page()
    page.feed(response.text)
    assert page.inline_scripts == [] and page.handlers == []
    assert page.scripts[-1] == "/api/v1/swagger/swagger-init.js"
    for src in page.scripts:  # every script the policy must allow comes from this origin
        assert src.startswith("/api/v1/swagger/") and live_server.get(src).status_code == 200
    assert 'data-spec-url="/api/v1/openapi.json"' in response.text


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (apt-get install -y chromium)")
def test_swagger_ui_renders_under_its_csp_in_a_real_browser(live_server, tmp_path):
    """Headless chromium loads the page with its policy: every operation is drawn and the
    browser reports no Content-Security-Policy violation."""
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            f"--user-data-dir={tmp_path}",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=15000",
            "--dump-dom",
            live_server("/api/v1/swagger/index.html"),
        ],
        capture_output=True,
        text=True,
        timeout=REQUEST_TIMEOUT,
    )
    paths = live_server.get("/api/v1/openapi.json").json()["paths"].values()
    operations = sum(
        1 for item in paths for method in item if method in ("get", "post", "patch", "delete", "put")
    )
    assert result.stdout.count('class="opblock-summary-path"') == operations, result.stderr[-2000:]
    assert "Content Security Policy" not in result.stderr, result.stderr[-2000:]
