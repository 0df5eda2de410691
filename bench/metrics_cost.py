"""What recording metrics costs a request: `python -m bench.metrics_cost`.

Runs in prometheus_client's multiprocess mode, as under gunicorn (values in mmap'd files in
a temporary PROMETHEUS_MULTIPROC_DIR), and prints microseconds per request:

1. the recording alone, as a purchase does it: the route label, http_requests_total,
   http_request_duration_seconds, ticketing_db_pool_wait_seconds,
   ticketing_purchases_total and ticketing_tickets_sold_total (what the request thread pays;
   the flusher thread's share, amortised over a second of requests, is printed apart);
2. the same written straight into prometheus_client's values (what the batching avoids);
3. a whole request through Flask (GET /healthz, no database) with the metrics recorded
   and with the recording replaced by a no-op, interleaved rounds, medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time


def _per_call_us(fn, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - started) / n * 1e6


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)

    folder = tempfile.mkdtemp(prefix="metrics-cost-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder  # before prometheus_client is imported

    from ticketing import metrics, observability
    from ticketing.config import Settings

    class Rule:
        rule = "/api/v1/orders/<uuid:order_id>"

    rule = Rule()

    def purchase_recording():
        observability.record(observability.route_label(rule), "POST", 201, 0.0042)
        metrics.observe(metrics.POOL_WAIT, 0.00001)
        metrics.purchase("created", tickets=1)

    http_counter = metrics.HTTP_REQUESTS.labels("/api/v1/orders/{order_id}", "POST", "201")
    http_timer = metrics.HTTP_DURATION.labels("/api/v1/orders/{order_id}", "POST")
    created = metrics.PURCHASES.labels("created")

    def direct_recording():
        http_counter.inc()
        http_timer.observe(0.0042)
        metrics.POOL_WAIT.observe(0.00001)
        created.inc()
        metrics.TICKETS_SOLD.inc(1)

    recording, flushing, direct = [], [], []
    for _ in range(args.rounds):
        recording.append(_per_call_us(purchase_recording, args.n))
        started = time.perf_counter()
        metrics.flush()
        flushing.append((time.perf_counter() - started) * 1e6)
        direct.append(_per_call_us(direct_recording, args.n))

    from ticketing import create_app

    settings = Settings(
        database_url="postgresql://unused@/none", jwt_secret="x" * 32, webhook_secret="y" * 16
    )
    app = create_app(settings)
    client = app.test_client()
    real_record = observability.record
    with_metrics, without = [], []
    console, sys.stdout = sys.stdout, open(os.devnull, "w")  # noqa: SIM115 (the request log)
    try:
        for _ in range(args.rounds):
            for bucket, record in ((with_metrics, real_record), (without, lambda *a: None)):
                observability.record = record
                bucket.append(_per_call_us(lambda: client.get("/healthz"), max(1, args.n // 10)))
    finally:
        sys.stdout.close()
        sys.stdout = console
        observability.record = real_record

    median_on, median_off = statistics.median(with_metrics), statistics.median(without)
    print(f"multiprocess mode ({folder}), {args.rounds} rounds, medians:")
    print(f"  recording a purchase's metrics (batched): {statistics.median(recording):6.2f} µs per request")
    print(f"  one flush of those {args.n} requests:    {statistics.median(flushing):6.1f} µs (once a second)")
    print(f"  the same written straight to the files:  {statistics.median(direct):6.2f} µs per request")
    print(f"  GET /healthz through Flask, metrics on:  {median_on:6.1f} µs per request")
    print(f"  GET /healthz through Flask, metrics off: {median_off:6.1f} µs per request")
    print(f"  difference:                              {median_on - median_off:6.1f} µs per request")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
