"""Admission runs by itself: a sweep in every app process (gunicorn worker) every
QUEUE_ADMIT_MS, and `flask --app wsgi admit-queue` for ops. Sweeps may run anywhere at
once: the SQL skips an event another sweep is admitting for (SKIP LOCKED)."""

from __future__ import annotations

import logging
import random
import threading
import time

from ticketing import metrics
from ticketing.queue import repository

log = logging.getLogger("ticketing.queue")


def admit_due() -> int:
    """Admit whoever is due now, in every waiting room; needs an app context."""
    admitted = repository.admit()
    if admitted:
        metrics.count(metrics.QUEUE_ADMITTED, admitted)
    return admitted


def refresh_gauges() -> None:
    """Read the open waiting rooms' totals into the queue gauges; needs an app context."""
    totals = repository.gauges()
    metrics.QUEUE_WAITING.set(totals["waiting"])
    metrics.QUEUE_PASSES.set(totals["passes_out"])


def start_admitter(app, stop: threading.Event | None = None) -> threading.Thread | None:
    """Admit every QUEUE_ADMIT_MS in a daemon thread until `stop` is set (if given)."""
    interval = app.config["SETTINGS"].queue_admit_seconds
    stop = stop or threading.Event()
    if interval <= 0:
        return None

    def run():
        gauges_due = 0.0
        # jitter, so the workers' sweeps spread out instead of colliding
        while not stop.wait(interval * random.uniform(0.5, 1.0)):
            try:
                with app.app_context():
                    admitted = admit_due()
                    if admitted:
                        log.debug("admitted %d queue entries", admitted)
                    if time.monotonic() >= gauges_due:
                        gauges_due = time.monotonic() + metrics.QUEUE_GAUGE_SECONDS
                        refresh_gauges()
            except Exception:  # the database may be down; the next sweep tries again
                log.warning("queue admission failed; retrying", exc_info=True)

    thread = threading.Thread(target=run, name="queue-admitter", daemon=True)
    thread.start()
    return thread
