"""Admission runs by itself: a sweep in every app process (gunicorn worker) every
QUEUE_ADMIT_MS, and `flask --app wsgi admit-queue` for ops. Sweeps may run anywhere at
once: the SQL skips an event another sweep is admitting for (SKIP LOCKED)."""

from __future__ import annotations

import logging
import random
import threading

from ticketing.queue import repository

log = logging.getLogger("ticketing.queue")


def admit_due() -> int:
    """Admit whoever is due now, in every waiting room; needs an app context."""
    return repository.admit()


def start_admitter(app, stop: threading.Event | None = None) -> threading.Thread | None:
    """Admit every QUEUE_ADMIT_MS in a daemon thread until `stop` is set (if given)."""
    interval = app.config["SETTINGS"].queue_admit_seconds
    stop = stop or threading.Event()
    if interval <= 0:
        return None

    def run():
        # jitter, so the workers' sweeps spread out instead of colliding
        while not stop.wait(interval * random.uniform(0.5, 1.0)):
            try:
                with app.app_context():
                    admitted = admit_due()
                    if admitted:
                        log.debug("admitted %d queue entries", admitted)
            except Exception:  # the database may be down; the next sweep tries again
                log.warning("queue admission failed; retrying", exc_info=True)

    thread = threading.Thread(target=run, name="queue-admitter", daemon=True)
    thread.start()
    return thread
