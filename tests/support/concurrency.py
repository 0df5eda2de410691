"""Threads released at the same instant, for races with real commits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial

import requests

from tests.support.timeouts import WAIT_TIMEOUT


def run_together(actions: list[Callable[[], object]]) -> list:
    """Call each action in its own thread, all released at once by a barrier; return their
    results in order. Fails if an action raised, or if any thread is still running
    WAIT_TIMEOUT after the start."""
    barrier = threading.Barrier(len(actions), timeout=WAIT_TIMEOUT)
    results = [None] * len(actions)
    errors = []

    def run(i, action):
        try:
            barrier.wait()
            results[i] = action()
        except BaseException as exc:  # raised again in the calling thread, below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, a), daemon=True) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + WAIT_TIMEOUT
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    running = sum(thread.is_alive() for thread in threads)
    assert not running, f"{running} of {len(threads)} threads still running after {WAIT_TIMEOUT} s"
    if errors:
        raise errors[0]
    return results


def rush(count: int, action: Callable[[int, requests.Session], object]) -> list:
    """`action(i, session)` for each i in range(count), each in its own thread with its own
    requests.Session, all released at the same instant; their results in order."""
    sessions = [requests.Session() for _ in range(count)]
    try:
        return run_together([partial(action, i, session) for i, session in enumerate(sessions)])
    finally:
        for session in sessions:
            session.close()
