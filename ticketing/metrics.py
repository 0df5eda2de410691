"""Prometheus metrics (docs/operations.md lists them).

Under gunicorn every worker records into memory-mapped files in PROMETHEUS_MULTIPROC_DIR
(set by gunicorn.conf.py before this module is imported, because prometheus_client picks
its storage at import time), and the master serves the sum of all workers on its own
listener, METRICS_HOST:METRICS_PORT, never on the public port. Elsewhere (tests, `flask`
commands) the values simply stay in the process.

Labels are bounded: route templates, methods, statuses and fixed outcome names; never a
user, an order or a raw path.

The hot path does not write those files itself (a counter increment there costs ~4 µs, a
histogram observation ~9 µs on our machines): `count()` and `observe()` add to plain dicts
under one lock (a microsecond or two each), and a daemon thread in each worker moves the sums
into prometheus_client's values every FLUSH_SECONDS (`start_flusher`, from gunicorn's
post_worker_init; `flush()` also runs when a worker exits). `python -m bench.metrics_cost`
measures both.
"""

from __future__ import annotations

import bisect
import logging
import os
import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess, start_http_server

log = logging.getLogger("ticketing.metrics")

# Milliseconds matter on the hot path: 1 ms .. 10 s, finest where purchases are (5-150 ms).
LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.075,
    0.1, 0.15, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
# Waiting for a pooled connection is usually microseconds, and bounded by DB_POOL_TIMEOUT_MS.
POOL_WAIT_BUCKETS = (
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0,
)  # fmt: skip

HTTP_REQUESTS = Counter(
    "http_requests",
    "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time spent answering a request in the app (from routing to the response), by route template and method",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
PURCHASES = Counter(
    "ticketing_purchases",
    "POST /orders attempts by outcome: created, replayed, sold_out, limit, queue_pass, not_on_sale,"
    " closed, not_found, unauthorized, invalid, unavailable, error",
    ["outcome"],
)
PURCHASE_BATCHES = Histogram(
    "ticketing_purchase_batch_size",
    "Purchases per statement run by the purchase batcher (PURCHASE_BATCHING=on); 1: a lone buyer",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
QUEUE_BATCHES = Histogram(
    "ticketing_queue_batch_size",
    "Waiting-room joins (kind=join) or polls (kind=poll) per statement run by the queue batchers"
    " (QUEUE_BATCHING=on); 1: a lone caller",
    ["kind"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
TICKETS_SOLD = Counter("ticketing_tickets_sold", "Tickets sold (held by a new PENDING order)")
POOL_WAIT = Histogram(
    "ticketing_db_pool_wait_seconds",
    "Time a request waited for a pooled database connection (timeouts included)",
    buckets=POOL_WAIT_BUCKETS,
)
DB_UNAVAILABLE = Counter(
    "ticketing_db_unavailable",
    "Requests answered 503 because of the database, by reason: pool_timeout, connect, timeout, lock, down",
    ["reason"],
)
HOLDS_EXPIRED = Counter(
    "ticketing_holds_expired", "PENDING orders expired by the sweep, their tickets returned to sale"
)
WEBHOOK_DELIVERIES = Counter(
    "ticketing_webhook_deliveries",
    "Payment webhook calls by result:"
    " accepted, unauthorized, invalid, not_found, conflict, unavailable, error",
    ["result"],
)

QUEUE_JOINS = Counter(
    "ticketing_queue_joins",
    "Waiting-room joins by result: new (a new entry), existing (the caller's live entry again)",
    ["result"],
)
QUEUE_ADMITTED = Counter("ticketing_queue_admitted", "Waiting-room entries admitted (given a pass)")
# Read from the database by the admission sweep every QUEUE_GAUGE_SECONDS (the newest
# reading of any live worker counts): over every open waiting room.
QUEUE_WAITING = Gauge(
    "ticketing_queue_waiting",
    "Entries waiting in open waiting rooms (sold-out ones included)",
    multiprocess_mode="livemostrecent",
)
QUEUE_PASSES = Gauge(
    "ticketing_queue_passes_out",
    "Admitted entries holding an unused, unexpired pass",
    multiprocess_mode="livemostrecent",
)
QUEUE_GAUGE_SECONDS = 5.0

FLUSH_SECONDS = 1.0

_lock = threading.Lock()
_counts: dict = {}  # counter child -> amount not yet flushed
_observations: dict = {}  # histogram child -> [count per bucket..., sum] not yet flushed
_requests: dict = {}  # (route, method, status) -> [count per latency bucket..., sum]
_LATENCY_BOUNDS = (*LATENCY_BUCKETS, float("inf"))
_request_children: dict = {}  # (route, method, status) -> (counter child, histogram child)


def request(route: str, method: str, status: int, seconds: float) -> None:
    """One answered request: http_requests_total and http_request_duration_seconds."""
    index = bisect.bisect_left(_LATENCY_BOUNDS, seconds)
    key = (route, method, status)
    with _lock:
        pending = _requests.get(key)
        if pending is None:
            pending = _requests[key] = [0] * (len(_LATENCY_BOUNDS) + 1)
        pending[index] += 1
        pending[-1] += seconds


def count(child, amount: float = 1.0) -> None:
    """Add `amount` to a counter child (e.g. `PURCHASES.labels("created")`, cached)."""
    with _lock:
        _counts[child] = _counts.get(child, 0.0) + amount


def observe(child, value: float) -> None:
    """Observe `value` in a histogram child (or a histogram without labels)."""
    bounds = child._upper_bounds  # ends with +Inf; a value counts in the first bound >= it
    index = bisect.bisect_left(bounds, value)
    with _lock:
        pending = _observations.get(child)
        if pending is None:
            pending = _observations[child] = [0] * (len(bounds) + 1)
        pending[index] += 1
        pending[-1] += value


def flush() -> None:
    """Move everything recorded so far into prometheus_client's values (the shared files)."""
    global _counts, _observations, _requests
    with _lock:
        counts, observations, requests = _counts, _observations, _requests
        _counts, _observations, _requests = {}, {}, {}
    for child, amount in counts.items():
        child.inc(amount)
    for key, pending in requests.items():
        children = _request_children.get(key)
        if children is None:
            route, method, status = key
            children = _request_children[key] = (
                HTTP_REQUESTS.labels(route, method, str(status)),
                HTTP_DURATION.labels(route, method),
            )
        children[0].inc(sum(pending[:-1]))
        observations[children[1]] = _merge(observations.get(children[1]), pending)
    for child, pending in observations.items():
        # prometheus_client's own Histogram.observe, for many values at once: one
        # (non-cumulative) value per bucket, plus the sum.
        for index, number in enumerate(pending[:-1]):
            if number:
                child._buckets[index].inc(number)
        child._sum.inc(pending[-1])


def _merge(into: list | None, pending: list) -> list:
    if into is None:
        return pending
    return [a + b for a, b in zip(into, pending)]


def start_flusher(stop: threading.Event | None = None) -> threading.Thread:
    """In a new process (a gunicorn worker): forget what the parent had not flushed yet
    (the parent counts it), then flush every FLUSH_SECONDS in a daemon thread."""
    global _counts, _observations, _requests
    with _lock:
        _counts, _observations, _requests = {}, {}, {}
    stop = stop or threading.Event()

    def run():
        while not stop.wait(FLUSH_SECONDS):
            try:
                flush()
            except Exception:  # e.g. a full disk: keep recording, try again next time
                log.warning("metrics flush failed; retrying", exc_info=True)

    thread = threading.Thread(target=run, name="metrics-flusher", daemon=True)
    thread.start()
    return thread


def purchase(outcome: str, tickets: int = 0) -> None:
    count(_purchase_children.get(outcome) or PURCHASES.labels(outcome))
    if tickets:
        count(TICKETS_SOLD, tickets)


def purchase_batch(size: int) -> None:
    observe(PURCHASE_BATCHES, size)


_queue_batch_children = {kind: QUEUE_BATCHES.labels(kind) for kind in ("join", "poll")}


def queue_join_batch(size: int) -> None:
    observe(_queue_batch_children["join"], size)


def queue_poll_batch(size: int) -> None:
    observe(_queue_batch_children["poll"], size)


_purchase_children = {
    outcome: PURCHASES.labels(outcome)
    for outcome in (
        "created",
        "replayed",
        "sold_out",
        "limit",
        "queue_pass",
        "not_on_sale",
        "closed",
        "not_found",
        "unauthorized",
        "invalid",
        "unavailable",
        "error",
    )
}


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def start_server(host: str, port: int):
    """Serve every worker's metrics (the multiprocess files) on host:port in a daemon thread
    of the calling process (the gunicorn master). Returns the HTTP server."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server


def worker_exited(pid: int) -> None:
    """A worker died: drop its live gauges (its counters keep counting)."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid)
