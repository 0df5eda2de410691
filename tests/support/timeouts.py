"""How long the tests wait. The machine is shared and its speed varies a lot, so every wait
is generous; every wait is also bounded, so a hung server fails a test instead of hanging
the suite. No test asserts on how fast anything is: these only catch a hang."""

from __future__ import annotations

import time
from collections.abc import Callable

# One HTTP request (to a live server, or an in-process request that must not hang), even
# one queued behind a 200-buyer rush on three workers.
REQUEST_TIMEOUT = 60
# Threads to finish, or a condition to come true (a hold to expire, a lock to be waited
# on): long enough for a worker's two requests in a row.
WAIT_TIMEOUT = 2 * REQUEST_TIMEOUT
# A server we start (gunicorn, SeaweedFS) until it answers.
SERVER_START_TIMEOUT = 60
# A server asked to stop until it has exited; past gunicorn's graceful_timeout (10 s).
SERVER_STOP_TIMEOUT = 20


def wait_until(condition: Callable[[], object], failure: str, interval: float = 0.1) -> None:
    """Poll `condition` until it is true; fail with `failure` after WAIT_TIMEOUT."""
    deadline = time.monotonic() + WAIT_TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"{failure} (waited {WAIT_TIMEOUT} s)"
        time.sleep(interval)
