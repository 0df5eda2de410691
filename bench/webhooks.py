"""The webhook run of `make bench`: a receiver (bench/receiver.py) and an endpoint
subscribed to order.created, so every purchase also records and delivers an event."""

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from bench.database import scalar
from bench.server import free_port
from ticketing.config import REPO_ROOT

# The app refuses loopback targets in production unless told otherwise.
ENV = {"WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"}


@contextmanager
def endpoint_subscribed(conn) -> Iterator[str]:
    """A receiver on a free port and an endpoint (order.created) pointing at it; both gone after."""
    port = free_port()
    receiver = subprocess.Popen([sys.executable, "-m", "bench.receiver", str(port)], cwd=REPO_ROOT)
    time.sleep(0.5)
    endpoint = scalar(
        conn,
        "INSERT INTO webhook_endpoints (url, events, secret) VALUES (%s, '{order.created}', 'whsec_bench')"
        " RETURNING id",
        (f"http://127.0.0.1:{port}/hooks",),
    )
    try:
        yield endpoint
    finally:
        scalar(conn, "DELETE FROM webhook_endpoints WHERE id = %s RETURNING id", (endpoint,))
        receiver.terminate()
        receiver.wait(10)


def delivery_figures(conn, endpoint_id: str) -> dict:
    """How the endpoint's deliveries stand when the run ends."""
    cur = conn.cursor()
    cur.execute(
        "SELECT count(*), count(delivered_at), count(*) FILTER (WHERE attempts > 1),"
        " percentile_disc(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - created_at)),"
        " percentile_disc(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - created_at))"
        " FROM webhook_deliveries WHERE endpoint_id = %s",
        (endpoint_id,),
    )
    total, delivered, retried, p50, p99 = cur.fetchone()
    return {
        "recorded": total,
        "delivered": delivered,
        "retried": retried,
        "delay_p50_s": p50 and round(float(p50), 3),
        "delay_p99_s": p99 and round(float(p99), 3),
    }
