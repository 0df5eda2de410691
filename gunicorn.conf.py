"""gunicorn settings; every value can be overridden from the environment (see README)."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8080')}"
# Sync workers, one database connection each: on 2 cores the Python tier, not the
# database, is the limit (docs/performance.md has the measurements behind these numbers).
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 10
keepalive = 5
backlog = 2048
accesslog = None  # the app writes one JSON line per request itself
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# No `gunicornc` control socket: several instances (tests, bench, make run) share a home.
control_socket_disable = True


def on_starting(server):
    # Runs once in the master before workers fork; the app's pool is per process and
    # lazily created, so nothing opened here is shared with the workers.
    import sys

    from ticketing import create_app
    from ticketing.commands import bootstrap_admin_from_env
    from ticketing.config import ConfigError

    try:
        app = create_app()
        bootstrap_admin_from_env(app)
    except ConfigError as exc:  # a clear message, not a traceback, for a bad environment
        print(f"configuration error: {exc}", file=sys.stderr, flush=True)
        sys.exit(1)
    app.extensions["ticketing.db"].close()
    settings = app.config["SETTINGS"]
    if not settings.production:
        print(f"development webhook secret (signs Webhook-Signature): {settings.webhook_secret}", flush=True)


def post_worker_init(worker):
    # Each worker sweeps expired holds in a background thread (EXPIRY_SWEEP_MS, 0 = off),
    # and sends due outgoing webhooks in another (WEBHOOK_DELIVERY_MS, 0 = off).
    from ticketing.orders.expiry import start_sweeper
    from ticketing.outbox.delivery import start_deliverer

    start_sweeper(worker.wsgi)
    start_deliverer(worker.wsgi)
