"""The webhook run of `make bench`: a receiver and an endpoint subscribed to order.created,
so every purchase also records and delivers an event.

The receiver stands for the consumer's server, which in production runs elsewhere; here
it shares the two cores with everything else, so it should cost as little as possible:
nginx answering 204 when it is installed (apt-get install nginx), else bench/receiver.py."""

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.database import scalar
from bench.server import free_port
from ticketing.config import REPO_ROOT

# The app refuses loopback targets in production unless told otherwise.
ENV = {"WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"}


@contextmanager
def endpoint_subscribed(conn) -> Iterator[str]:
    """A receiver on a free port and an endpoint (order.created) pointing at it; both gone after."""
    port = free_port()
    receiver = _start_receiver(port)
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


NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 204; }}
    }}
}}
"""


def _start_receiver(port: int) -> subprocess.Popen:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        print("webhook receiver: bench/receiver.py (install nginx for a cheaper one)", flush=True)
        return subprocess.Popen([sys.executable, "-m", "bench.receiver", str(port)], cwd=REPO_ROOT)
    folder = Path(tempfile.mkdtemp(prefix="bench-receiver-"))
    (folder / "nginx.conf").write_text(NGINX_CONF.format(dir=folder, port=port))
    print(f"webhook receiver: nginx on port {port}", flush=True)
    return subprocess.Popen([nginx, "-p", str(folder), "-c", str(folder / "nginx.conf")])


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
