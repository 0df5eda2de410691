"""Step 2: the API with production settings (WEB_CONCURRENCY, DB_POOL_SIZE,
GUNICORN_WORKER_CLASS and GUNICORN_THREADS pass through from the environment): straight
under gunicorn, or behind the front door (`python -m ticketing.frontdoor`, what `make run`
serves: nginx in front of the gunicorn pools, docs/deployment.md)."""

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench import OUT_DIR
from tests.support.servers import free_adjacent_ports, free_port
from ticketing.config import REPO_ROOT, load_settings
from ticketing.frontdoor import gunicorn_conf

START_TIMEOUT_S = 60


def production_env(*, database_url: str, jwt_secret: str) -> dict:
    return {
        **os.environ,
        "APP_ENV": "production",
        "JWT_SECRET": jwt_secret,
        "WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "TICKET_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "DATABASE_URL": database_url,
        "PORT": str(free_port()),
        # Metrics on, as in production, never on a taken port: the front door's auth pool
        # serves its own on the next one (a taken one stopped one run in about twenty).
        "METRICS_PORT": str(free_adjacent_ports()),
        "HOST": "127.0.0.1",
    }


def effective_settings(env: dict) -> dict:
    """Workers, class, threads and pool size as gunicorn.conf.py and ticketing.config see them."""
    conf = gunicorn_conf({**os.environ, **env})
    app_settings = load_settings(env)
    worker_class = conf["worker_class"]
    if worker_class == "sync" and conf["threads"] > 1:  # gunicorn switches to gthread itself
        worker_class = "gthread"
    per_worker = min(conf["threads"] if worker_class == "gthread" else 1, app_settings.db_pool_size)
    return {
        "workers": conf["workers"],
        "worker_class": worker_class,
        "threads": conf["threads"],
        "pool_size": app_settings.db_pool_size,
        "db_concurrency": conf["workers"] * per_worker,
        "hold_seconds": app_settings.order_hold_seconds,
    }


@contextmanager
def running(env: dict) -> Iterator[tuple[str, Path]]:
    """gunicorn with `env`, up and answering /healthz: its base URL and its JSON request log."""
    log_path = OUT_DIR / "gunicorn.log"  # the app's JSON request log (stdout)
    err_path = OUT_DIR / "gunicorn.err"
    log_path.write_bytes(b"")
    err_path.write_bytes(b"")
    base_url = f"http://127.0.0.1:{env['PORT']}"
    proc = start(env, log_path, err_path, base_url)
    try:
        print(f"API up on {base_url} (request log {log_path.relative_to(REPO_ROOT)})", flush=True)
        yield base_url, log_path
    finally:
        stop(proc)


@contextmanager
def running_front_door(env: dict) -> Iterator[tuple[str, Path]]:
    """The front door with `env` (rate limits off: wrk is one address), answering /healthz
    through nginx: its base URL and the app's JSON request log."""
    log_path = OUT_DIR / "frontdoor.log"
    err_path = OUT_DIR / "frontdoor.err"
    log_path.write_bytes(b"")
    err_path.write_bytes(b"")
    env = {**env, "RATE_LIMITS": "off", "DEV_DATA_DIR": str(OUT_DIR / "frontdoor")}
    base_url = f"http://127.0.0.1:{env['PORT']}"
    proc = start(env, log_path, err_path, base_url, FRONT_DOOR, new_session=True)
    try:
        print(
            f"front door up on {base_url} (nginx -> gunicorn; request log {log_path.relative_to(REPO_ROOT)})"
        )
        yield base_url, log_path
    finally:
        stop(proc)


GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
FRONT_DOOR = [sys.executable, "-m", "ticketing.frontdoor"]


def start(
    env: dict, log_path: Path, err_path: Path, base_url: str, command=None, new_session=False
) -> subprocess.Popen:
    with open(log_path, "ab") as log, open(err_path, "ab") as err:  # O_APPEND: many workers
        proc = subprocess.Popen(
            command or GUNICORN,
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=err,
            start_new_session=new_session,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(
                f"{command or GUNICORN} exited with {proc.returncode}:\n{err_path.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(base_url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return proc
        except OSError:
            pass
        time.sleep(0.2)
    stop(proc)
    raise SystemExit(f"the API did not answer /healthz within {START_TIMEOUT_S} s; see {err_path}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the front door stops nginx and its pools itself
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def logged_statuses(log_path: Path, offset: int, *, method: str, path: str) -> dict[str, int]:
    """Statuses of `method path` in the app's JSON request log, from byte `offset`."""
    counts: dict[str, int] = {}
    with open(log_path, "rb") as log:
        log.seek(offset)
        for line in log:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("method") == method and entry.get("path") == path:
                status = str(entry.get("status"))
                counts[status] = counts.get(status, 0) + 1
    return counts
