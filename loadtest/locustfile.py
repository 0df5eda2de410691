"""Buyers rushing one event, for locust (docs/load-testing.md).

    LOADTEST_RUN=run.json locust -f loadtest/locustfile.py --headless -u 200 -r 50 -t 60s

Reads the run file written by `flask loadtest prepare` (LOADTEST_RUN, default run.json);
the host defaults to the run's base_url. Each simulated buyer uses one prepared account
(round robin) and buys `quantity` tickets of the run's event, again and again:

- every purchase carries an Idempotency-Key; a 429 or 503 is retried with the SAME key
  after the Retry-After it names (at most LOADTEST_MAX_RETRIES times), as a real client
  must, so a retry never buys twice;
- 201 and 409 (sold out, limit) are successes for locust: they are the answers an on-sale
  gives; anything else is a failure;
- the id of every order answered 201 is appended to the run's orders file, which
  `flask loadtest verify` checks against the database;
- at the end it prints the count of each status (retries included) next to locust's own
  latency table, and writes them to LOADTEST_REPORT if set (JSON).

Locust is a closed model: a user waits for its answer before the next request, so a slow
server gets fewer requests and the latency hides it (coordinated omission). k6.js is the
same logic as an open model.

Environment: LOADTEST_RUN, LOADTEST_THINK_SECONDS (pause between purchases, default 0),
LOADTEST_MAX_RETRIES (default 5), LOADTEST_REPORT.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import uuid
from collections import Counter
from pathlib import Path

import gevent
from locust import HttpUser, between, events, task

RUN_PATH = Path(os.environ.get("LOADTEST_RUN", "run.json"))
RUN = json.loads(RUN_PATH.read_text())
API = RUN.get("api_prefix", "/api/v1")
EVENT_ID = RUN["event"]["id"]
QUANTITY = int(RUN.get("quantity", 1))
TOKENS = [user["token"] for user in RUN["users"]]
THINK = float(os.environ.get("LOADTEST_THINK_SECONDS", "0"))
MAX_RETRIES = int(os.environ.get("LOADTEST_MAX_RETRIES", "5"))
RETRYABLE = {429, 503}

_next_buyer = itertools.count()
_statuses: Counter = Counter()
_lock = threading.Lock()
_orders = open(RUN_PATH.parent / RUN.get("orders_file", RUN_PATH.stem + ".orders"), "a", buffering=1)  # noqa: SIM115


def retry_after(response) -> float:
    try:
        return min(max(float(response.headers.get("Retry-After", "1")), 0.0), 30.0)
    except ValueError:
        return 1.0


class Buyer(HttpUser):
    host = RUN["base_url"]
    wait_time = between(THINK, THINK)

    def on_start(self):
        token = TOKENS[next(_next_buyer) % len(TOKENS)]
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    @task
    def buy(self):
        body = {"event_id": EVENT_ID, "quantity": QUANTITY}
        headers = {**self.headers, "Idempotency-Key": uuid.uuid4().hex}
        for attempt in range(MAX_RETRIES + 1):
            with self.client.post(
                f"{API}/orders", json=body, headers=headers, name="POST /orders", catch_response=True
            ) as response:
                status = response.status_code
                with _lock:
                    _statuses[status] += 1
                if status == 201:
                    _orders.write(response.json()["id"] + "\n")
                    response.success()
                    return
                if status == 409:
                    response.success()  # sold out (or the event closed): an answer, not an error
                    return
                if status in RETRYABLE and attempt < MAX_RETRIES:
                    response.success()  # asked to come back later: do so, with the same key
                    wait = retry_after(response)
                else:
                    response.failure(f"HTTP {status}")
                    return
            gevent.sleep(wait)


@events.test_stop.add_listener
def report(environment, **kwargs):
    _orders.flush()
    total = sum(_statuses.values())
    lines = [f"statuses of POST /orders ({total} responses, retries included):"]
    lines += [f"  {status}: {count}" for status, count in sorted(_statuses.items())]
    print("\n".join(lines), flush=True)
    path = os.environ.get("LOADTEST_REPORT")
    if path:
        stats = environment.stats.get("POST /orders", "POST")
        summary = {
            "statuses": {str(k): v for k, v in sorted(_statuses.items())},
            "requests": stats.num_requests,
            "failures": stats.num_failures,
            "rps": stats.total_rps,
            "latency_ms": {f"p{p}": stats.get_response_time_percentile(p / 100) for p in (50, 90, 99)},
        }
        Path(path).write_text(json.dumps(summary, indent=1))
