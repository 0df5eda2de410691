"""Buyers rushing one event, for locust (docs/load-testing.md).

    LOADTEST_RUN=run.json locust -f loadtest/locustfile.py --headless -u 200 -r 50 -t 60s

Reads the run file written by `flask loadtest prepare` (LOADTEST_RUN, default run.json);
the host defaults to the run's base_url. Each simulated user is one prepared buyer (round
robin over the run's accounts) and goes through one buyer's journey again and again:

- when the run's event has a waiting room (`prepare --queue ...`): join it (POST
  .../events/{event_id}/queue), poll it (GET) sleeping the Retry-After each answer names
  between polls until the entry is `admitted`, then buy with its pass as `Queue-Pass`; an
  entry that expired (or was already used) means joining again, at the back;
- the purchase carries an Idempotency-Key; every request answered 429 or 503 is retried
  after the Retry-After it names (at most LOADTEST_MAX_RETRIES times), the purchase with
  the SAME key and pass, as a real client must, so a retry never buys twice;
- 201 ends the journey (the buyer starts another one); a 409 (sold out, over the per-user
  limit, closed) or an entry that turns `sold_out` stops this user for the rest of the
  run: that buyer has had their answer. Anything else is a failure;
- the id of every order answered 201 is appended to the run's orders file, which
  `flask loadtest verify` checks against the database;
- at the end it prints, for each route (join, poll, purchase), the count of each status
  (retries included) and its latency, next to locust's own table (whose rows are named by
  route template too), plus the time spent in the waiting room; LOADTEST_REPORT (if set)
  gets the same as JSON.

Locust is a closed model: a user waits for its answer before the next request, so a slow
server gets fewer requests and the latency hides it (coordinated omission). k6.js is the
same logic, line for line with the same names, as an open model: change both together.

Environment: LOADTEST_RUN, LOADTEST_THINK_SECONDS (pause between journeys, default 0),
LOADTEST_MAX_RETRIES (default 5), LOADTEST_REPORT.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import gevent
from locust import HttpUser, between, events, task
from locust.exception import StopUser

RUN_PATH = Path(os.environ.get("LOADTEST_RUN", "run.json"))
RUN = json.loads(RUN_PATH.read_text())
API = RUN.get("api_prefix", "/api/v1")
EVENT_ID = RUN["event"]["id"]
QUEUED = bool(RUN["event"].get("queue"))  # the event has a waiting room
QUANTITY = int(RUN.get("quantity", 1))
TOKENS = [user["token"] for user in RUN["users"]]
THINK = float(os.environ.get("LOADTEST_THINK_SECONDS", "0"))
MAX_RETRIES = int(os.environ.get("LOADTEST_MAX_RETRIES", "5"))
RETRYABLE = {429, 503}

# Requests are named by route template, as the server's metrics name them.
JOIN = "POST /api/v1/events/{event_id}/queue"
POLL = "GET /api/v1/events/{event_id}/queue"
PURCHASE = "POST /api/v1/orders"
ROUTES = (JOIN, POLL, PURCHASE)
QUEUE_WAIT = "waiting room: join to pass"  # a pseudo-request: the time from join to admitted
# The statuses each route may answer in an on-sale; any other is a failure.
EXPECTED = {JOIN: {200, 201, 409}, POLL: {200}, PURCHASE: {201, 409}}

_next_buyer = itertools.count()
_statuses: dict[str, Counter] = defaultdict(Counter)
_lock = threading.Lock()
_orders = open(RUN_PATH.parent / RUN.get("orders_file", RUN_PATH.stem + ".orders"), "a", buffering=1)  # noqa: SIM115


def retry_after(response) -> float:
    try:
        return min(max(float(response.headers.get("Retry-After", "1")), 0.0), 60.0)
    except ValueError:
        return 1.0


class Buyer(HttpUser):
    host = RUN["base_url"]
    wait_time = between(THINK, THINK)

    def on_start(self):
        token = TOKENS[next(_next_buyer) % len(TOKENS)]
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method, path, route, headers, body=None):
        """One request of `route`, retried after its Retry-After on 429/503 with the same
        headers (so the same Idempotency-Key and Queue-Pass). Returns (status, JSON body or
        None, seconds the answer's Retry-After names); counts every status. (k6.js: call)"""
        for attempt in range(MAX_RETRIES + 1):
            with self.client.request(
                method, path, json=body, headers=headers, name=route, catch_response=True
            ) as response:
                status = response.status_code
                with _lock:
                    _statuses[route][status] += 1
                wait = retry_after(response)
                if status in EXPECTED[route]:
                    response.success()  # an on-sale's answer (a 409 included), not an error
                    try:
                        return status, response.json(), wait
                    except ValueError:
                        return status, None, wait
                if not (status in RETRYABLE and attempt < MAX_RETRIES):
                    response.failure(f"HTTP {status}")
                    return status, None, wait
                response.success()  # asked to come back later: do so, with the same key
            gevent.sleep(wait)
        raise AssertionError("unreachable")

    def wait_for_pass(self):
        """Join the waiting room and poll it, honouring Retry-After, until admitted: the
        pass, or None to start the journey again. Stops this user once it is sold out.
        (k6.js: waitForPass)"""
        path = f"{API}/events/{EVENT_ID}/queue"
        joined = time.perf_counter()
        status, entry, wait = self.call("POST", path, JOIN, self.headers)
        while True:
            if status == 409:
                raise StopUser()  # the event closed (or has no waiting room): nothing to wait for
            if entry is None:
                return None  # a failure, already counted
            if entry["status"] == "admitted":
                queue_waited(joined)
                return entry["pass"]
            if entry["status"] == "sold_out":
                raise StopUser()  # nothing left for anyone waiting: this buyer is done
            if entry["status"] != "waiting":
                return None  # expired, or already used: join again, at the back
            gevent.sleep(wait)  # waiting: poll when the server says it is worth it
            status, entry, wait = self.call("GET", path, POLL, self.headers)

    @task
    def journey(self):
        """One buyer's journey: through the waiting room if any, then the purchase.
        (k6.js: journey)"""
        queue_pass = None
        if QUEUED:
            queue_pass = self.wait_for_pass()
            if queue_pass is None:
                return
        body = {"event_id": EVENT_ID, "quantity": QUANTITY}
        headers = {**self.headers, "Idempotency-Key": uuid.uuid4().hex}
        if queue_pass is not None:
            headers["Queue-Pass"] = queue_pass
        status, order, _wait = self.call("POST", f"{API}/orders", PURCHASE, headers, body)
        if status == 201:
            _orders.write(order["id"] + "\n")
        elif status == 409:
            raise StopUser()  # sold out, over the per-user limit or closed: this buyer is done


def queue_waited(joined: float) -> None:
    """The time from joining to holding a pass, as a pseudo-request in locust's table."""
    events.request.fire(
        request_type="QUEUE",
        name=QUEUE_WAIT,
        response_time=(time.perf_counter() - joined) * 1000,
        response_length=0,
        exception=None,
        context={},
    )


@events.test_stop.add_listener
def report(environment, **kwargs):
    _orders.flush()
    summary = {}
    lines = []
    for route in ROUTES:
        counted = _statuses.get(route)
        if not counted:
            continue
        stats = environment.stats.get(route, route.split(" ", 1)[0])
        latency = {f"p{p}": stats.get_response_time_percentile(p / 100) for p in (50, 90, 99)}
        summary[route] = {
            "statuses": {str(k): v for k, v in sorted(counted.items())},
            "requests": stats.num_requests,
            "failures": stats.num_failures,
            "rps": stats.total_rps,
            "latency_ms": latency,
        }
        lines.append(f"statuses of {route} ({sum(counted.values())} responses, retries included):")
        lines += [f"  {status}: {count}" for status, count in sorted(counted.items())]
        lines.append("  latency ms: " + ", ".join(f"{k} {v:.0f}" for k, v in latency.items()))
    waited = environment.stats.entries.get((QUEUE_WAIT, "QUEUE"))  # get() would add a row
    if waited is not None and waited.num_requests:
        latency = {f"p{p}": waited.get_response_time_percentile(p / 100) for p in (50, 90, 99)}
        summary[QUEUE_WAIT] = {"passes": waited.num_requests, "latency_ms": latency}
        lines.append(
            f"{QUEUE_WAIT}: {waited.num_requests} passes, ms: "
            + ", ".join(f"{k} {v:.0f}" for k, v in latency.items())
        )
    print("\n".join(lines), flush=True)
    path = os.environ.get("LOADTEST_REPORT")
    if path:
        Path(path).write_text(json.dumps(summary, indent=1))
