"""Holds expire by themselves: a background sweep in every app process (gunicorn worker),
and `flask --app wsgi expire-orders` for ops. Sweeps may run concurrently anywhere:
the SQL skips rows another sweep or a webhook holds, and releases each hold once."""

from __future__ import annotations

import logging
import random
import threading
import time

from ticketing import metrics
from ticketing.orders import repository
from ticketing.users import service as users_service

log = logging.getLogger("ticketing.expiry")
BATCH_SIZE = 500
PRUNE_EVERY_SECONDS = 300


def expire_due_orders() -> int:
    """Expire every due hold (in batches); needs an app context. Returns the count."""
    total = 0
    while True:
        result = repository.expire_due(batch_size=BATCH_SIZE)
        total += result["orders"]
        if result["orders"]:
            metrics.count(metrics.HOLDS_EXPIRED, result["orders"])
        if result["orders"] < BATCH_SIZE:
            return total


def start_sweeper(app, stop: threading.Event | None = None) -> threading.Thread | None:
    """Sweep every EXPIRY_SWEEP_MS in a daemon thread until `stop` is set (if given)."""
    settings = app.config["SETTINGS"]
    stop = stop or threading.Event()
    interval = settings.expiry_sweep_seconds
    if interval <= 0:
        return None

    def run():
        last_prune = 0.0
        # jitter, so the workers' sweeps spread out instead of colliding
        while not stop.wait(interval * random.uniform(0.5, 1.0)):
            try:
                with app.app_context():
                    expired = expire_due_orders()
                    if expired:
                        log.info("expired %d orders", expired)
                    if time.monotonic() - last_prune > PRUNE_EVERY_SECONDS:
                        repository.prune_idempotency_keys(
                            retention_seconds=settings.idempotency_key_ttl_seconds
                        )
                        users_service.prune_login_failures()
                        last_prune = time.monotonic()
            except Exception:  # the database may be down; the next sweep tries again
                log.warning("expiry sweep failed; retrying", exc_info=True)

    thread = threading.Thread(target=run, name="expiry-sweeper", daemon=True)
    thread.start()
    return thread
