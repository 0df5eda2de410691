"""`flask loadtest prepare`: everything a load tool needs, made through the public API.

As an admin it publishes one event, signs up N buyers and logs each one in (the API's own
signup and login, so staging is prepared exactly as buyers would use it), many at a time,
then writes the run file (docs/load-testing.md describes it). Nothing here touches the
database directly: it runs against any deployment it can reach over HTTP.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

API_PREFIX = "/api/v1"
RUN_FORMAT = 1
RETRYABLE = (429, 502, 503, 504)
MAX_ATTEMPTS = 8  # for 429/503 answers
CONNECT_ATTEMPTS = 3  # for a server that cannot be reached at all


class PrepareError(Exception):
    """The API refused something prepare needs; the message says what and why."""


class Api:
    """JSON calls to one deployment, retried on 429/503 as Retry-After asks (bounded)."""

    def __init__(self, base_url: str, timeout: float = 60.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def call(self, method: str, path: str, body=None, token: str | None = None) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for attempt in range(1, MAX_ATTEMPTS + 1):
            request = urllib.request.Request(self.base_url + API_PREFIX + path, data, headers, method=method)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return response.status, _json(response.read())
            except urllib.error.HTTPError as error:
                status, payload = error.code, _json(error.read())
                if status not in RETRYABLE or attempt == MAX_ATTEMPTS:
                    return status, payload
                time.sleep(_retry_after(error.headers.get("Retry-After"), attempt))
            except (urllib.error.URLError, OSError) as exc:
                if attempt >= CONNECT_ATTEMPTS:
                    raise PrepareError(f"{method} {self.base_url}{API_PREFIX}{path}: {exc}") from None
                time.sleep(_retry_after(None, attempt))
        raise AssertionError("unreachable")


def _json(raw: bytes) -> dict:
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return {"detail": raw[:200].decode(errors="replace")}


def _retry_after(header: str | None, attempt: int) -> float:
    try:
        return min(max(float(header), 0.0), 30.0)
    except (TypeError, ValueError):
        return min(0.2 * 2**attempt, 5.0)


def _expect(status: int, payload: dict, expected: int, what: str) -> dict:
    if status != expected:
        detail = payload.get("detail") or payload.get("title") or payload
        errors = payload.get("errors")
        raise PrepareError(f"{what}: HTTP {status}: {detail}" + (f" {errors}" if errors else ""))
    return payload


def prepare(
    *,
    base_url: str,
    users: int,
    capacity: int,
    admin_email: str,
    admin_password: str,
    out: Path,
    max_per_order: int | None = None,
    quantity: int = 1,
    event_fields: dict | None = None,
    concurrency: int = 16,
    progress=None,
) -> dict:
    """Publish the event, create and log in `users` buyers, write `out`; returns the run."""
    api = Api(base_url)
    say = progress or (lambda message: None)
    started = time.monotonic()
    status, payload = api.call("POST", "/login", {"email": admin_email, "password": admin_password})
    admin_token = _expect(status, payload, 200, f"admin login as {admin_email}")["token"]

    run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(3)
    event = {
        "name": f"Load test {run_id}",
        "location": "Load test",
        "organization": "Load test",
        "rating": "Livre",
        "date": (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "capacity": capacity,
        "price": 100.0,
        "description": "Created by `flask loadtest prepare`; safe to delete.",
    }
    if max_per_order is not None:
        event["max_per_order"] = max_per_order
    event.update(event_fields or {})
    status, payload = api.call("POST", "/events", event, token=admin_token)
    created = _expect(status, payload, 201, "creating the event")
    say(f"event {created['id']} (capacity {capacity}) published")

    password = secrets.token_urlsafe(18)
    domain = "loadtest.example.com"
    done = [0]
    lock = threading.Lock()

    def make_buyer(index: int) -> dict:
        email = f"buyer-{run_id}-{index}@{domain}"
        status, payload = api.call(
            "POST", "/signup", {"name": f"Buyer {index}", "email": email, "password": password}
        )
        user = _expect(status, payload, 201, f"signing up {email}")
        status, payload = api.call("POST", "/login", {"email": email, "password": password})
        token = _expect(status, payload, 200, f"logging in {email}")
        with lock:
            done[0] += 1
            if done[0] % 100 == 0 or done[0] == users:
                say(f"{done[0]}/{users} buyers signed up and logged in")
        return {"id": user["id"], "email": email, "token": token["token"], "expires_in": token["expires_in"]}

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, users))) as pool:
        buyers = list(pool.map(make_buyer, range(users)))

    out = Path(out)
    run = {
        "format": RUN_FORMAT,
        "run_id": run_id,
        "base_url": api.base_url,
        "api_prefix": API_PREFIX,
        "prepared_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        # Tokens expire (JWT_TTL_SECONDS after prepare): rerun prepare for longer runs.
        "tokens_expire_at": (
            datetime.now(UTC) + timedelta(seconds=min((b["expires_in"] for b in buyers), default=0))
        ).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "event": {
            "id": created["id"],
            "capacity": created["capacity"],
            "max_per_order": created.get("max_per_order"),
            # the tools go through the waiting room when this is not null
            "queue": created.get("queue"),
            **{key: created[key] for key in (event_fields or {}) if key in created},
        },
        "quantity": quantity,
        # Tools append the id of every order they were answered 201 for, one per line:
        # `flask loadtest verify` checks that each one exists.
        "orders_file": out.with_suffix(".orders").name,
        "password": password,
        "users": [{"id": b["id"], "email": b["email"], "token": b["token"]} for b in buyers],
    }
    tmp = out.with_suffix(out.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # tokens and a password
    with os.fdopen(fd, "w") as handle:
        json.dump(run, handle, indent=1)
    tmp.replace(out)
    orders = out.parent / run["orders_file"]
    orders.write_text("")  # a fresh run starts with no recorded orders
    say(f"wrote {out} ({users} buyers) in {time.monotonic() - started:.1f} s")
    return run
