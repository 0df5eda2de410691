"""gunicorn settings; every value can be overridden from the environment (see README)."""

import os

# GUNICORN_BIND (e.g. unix:/path/app.sock) is how the front door (ticketing/frontdoor.py)
# puts each pool on its own socket behind nginx; otherwise HOST:PORT.
bind = (
    os.environ.get("GUNICORN_BIND")
    or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8080')}"
)
# The front door runs two pools, "app" and "auth" (bcrypt paths): names in `ps`, one banner.
pool = os.environ.get("GUNICORN_POOL") or "app"
# The defaults depend on the pool; each setting still overrides. The app pool (what
# `make run`, the image and compose's api serve): 2 gthread workers of 16 threads, so that
# purchases of one event arriving together are sold by one statement (PURCHASE_BATCHING),
# with DB_POOL_SIZE 4 (ticketing/config.py): about 2x the purchases/s of 4 sync workers
# through the front door at 64 connections, a lone buyer no slower
# (docs/performance.md#the-default-worker-model). Any other pool (auth: bcrypt, which
# releases the GIL but takes a core) keeps sync workers, one request each.
if pool == "app":
    _defaults = {"WEB_CONCURRENCY": "2", "GUNICORN_WORKER_CLASS": "gthread", "GUNICORN_THREADS": "16"}
else:
    _defaults = {"WEB_CONCURRENCY": "4", "GUNICORN_WORKER_CLASS": "sync", "GUNICORN_THREADS": "1"}
workers = int(os.environ.get("WEB_CONCURRENCY") or _defaults["WEB_CONCURRENCY"])
worker_class = os.environ.get("GUNICORN_WORKER_CLASS") or _defaults["GUNICORN_WORKER_CLASS"]
threads = int(os.environ.get("GUNICORN_THREADS") or _defaults["GUNICORN_THREADS"])
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 10
# Idle keep-alive connections close after 5 s; the front door's nginx drops its idle ones to
# the app pool after 4 s, first (deploy/nginx/ticketing.conf.template).
keepalive = 5
backlog = 2048
accesslog = None  # the app writes one JSON line per request itself
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The front door runs the app pool as one gunicorn per worker by default, each on its own
# socket, so that nginx balances the requests (ticketing/frontdoor.py, APP_BALANCING):
# APP_INSTANCE is which one this is; only the first serves the metrics of all of them.
instance = int(os.environ.get("APP_INSTANCE") or "1")
proc_name = f"ticketing-{pool}" if instance == 1 else f"ticketing-{pool}-{instance}"
# No `gunicornc` control socket: several instances (tests, bench, make run) share a home.
control_socket_disable = True


_metrics_server = None  # the master's metrics listener (METRICS_HOST:METRICS_PORT)


def _prepare_metrics_folder():
    """Every worker writes its metrics to files in PROMETHEUS_MULTIPROC_DIR; the master sums
    them. One folder per server (by port), emptied at start so a run never counts the last
    one's requests. Set before anything imports prometheus_client: it picks its storage then."""
    if os.environ.get("METRICS_PORT", "").strip() == "0":
        return
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        port = os.environ.get("PORT", "8080")
        if pool != "app":  # the front door's auth pool shares PORT with the app pool
            port = f"{port}-{pool}"
        if os.environ.get("APP_ENV") == "production":
            import tempfile

            folder = os.path.join(tempfile.gettempdir(), f"ticketing-metrics-{port}")
        else:
            here = os.path.dirname(os.path.abspath(__file__))
            data = os.environ.get("DEV_DATA_DIR") or os.path.join(here, ".devdata")
            folder = os.path.join(data, "metrics", port)
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.endswith(".db"):  # only prometheus_client's files, whatever the folder is
            os.unlink(os.path.join(folder, name))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder


def on_starting(server):
    # Runs once in the master before workers fork; the app's pool is per process and
    # lazily created, so nothing opened here is shared with the workers.
    import sys

    _prepare_metrics_folder()

    from ticketing import create_app, metrics, whole_answers

    # Headers and a small body in one write: a worker killed between the two would leave
    # the proxy a status without its body (ticketing/whole_answers.py). In the master,
    # before the fork: every worker inherits it.
    whole_answers.install()
    from ticketing.commands import bootstrap_admin_from_env
    from ticketing.config import ConfigError

    global _metrics_server
    try:
        app = create_app()
        bootstrap_admin_from_env(app)
        settings = app.config["SETTINGS"]
        if settings.metrics_port:
            try:
                _metrics_server = metrics.start_server(settings.metrics_host, settings.metrics_port)
            except OSError as exc:
                raise ConfigError(
                    f"cannot serve metrics on {settings.metrics_host}:{settings.metrics_port} ({exc});"
                    " set METRICS_PORT to a free port, or 0 to turn metrics off"
                ) from None
            print(f"metrics on http://{settings.metrics_host}:{settings.metrics_port}/metrics", flush=True)
    except ConfigError as exc:  # a clear message, not a traceback, for a bad environment
        print(f"configuration error: {exc}", file=sys.stderr, flush=True)
        sys.exit(1)
    app.extensions["ticketing.db"].close()
    metrics.flush()
    if not settings.production and pool == "app" and instance == 1:
        print(f"development webhook secret (signs Webhook-Signature): {settings.webhook_secret}", flush=True)


def post_fork(server, worker):
    # Only the master answers on the metrics port: the worker drops its copy of the socket.
    if _metrics_server is not None:
        _metrics_server.socket.close()


def child_exit(server, worker):
    # A dead worker's live gauges go; its counters stay in the sum (they only count up).
    # Every instance of the app pool does this for its own workers: they share the files.
    from ticketing import metrics

    metrics.worker_exited(worker.pid)


def post_worker_init(worker):
    # Each worker sweeps expired holds in a background thread (EXPIRY_SWEEP_MS, 0 = off),
    # moves its metrics into the shared files every second (ticketing/metrics.py), and
    # admits waiting-room entries in another thread (QUEUE_ADMIT_MS, 0 = off) and sends due
    # outgoing webhooks in a third (WEBHOOK_DELIVERY_MS, 0 = off).
    from ticketing import metrics
    from ticketing.orders.expiry import start_sweeper
    from ticketing.outbox.delivery import start_deliverer
    from ticketing.queue.admission import start_admitter

    start_sweeper(worker.wsgi)
    metrics.start_flusher()
    start_admitter(worker.wsgi)
    start_deliverer(worker.wsgi)


def worker_exit(server, worker):
    # A worker stopping cleanly flushes what it recorded since the last flush.
    from ticketing import metrics

    metrics.flush()
