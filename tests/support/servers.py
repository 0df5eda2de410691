"""Servers the tests run as real processes: free ports, the gunicorn command line, and a
handle on a started server (its URL, its log, HTTP calls with REQUEST_TIMEOUT, stop())."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import requests

from tests.support import ROOT
from tests.support.samples import JWT_SECRET, TICKET_SIGNING_KEY, WEBHOOK_SECRET
from tests.support.timeouts import REQUEST_TIMEOUT, SERVER_START_TIMEOUT, SERVER_STOP_TIMEOUT

# What `make run` serves the app with; run it from ROOT.
GUNICORN_COMMAND = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]


def free_ports(count: int) -> list[int]:
    """Distinct free loopback ports: every socket stays bound until all are chosen."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def free_port() -> int:
    (port,) = free_ports(1)
    return port


def free_adjacent_ports() -> int:
    """A free port whose next port is free too (the front door's two metrics listeners)."""
    for _ in range(100):
        port = free_port()
        with socket.socket() as first, socket.socket() as second:
            try:
                first.bind(("127.0.0.1", port))
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no two adjacent free ports on 127.0.0.1")


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM; SIGKILL if it has not exited within SERVER_STOP_TIMEOUT."""
    process.terminate()
    try:
        process.wait(SERVER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(SERVER_STOP_TIMEOUT)


def wait_until_ready(
    process: subprocess.Popen,
    ready: Callable[[], object],
    name: str,
    log_path: Path,
    not_yet: tuple[type[BaseException], ...] = (),
) -> None:
    """Poll `ready()` (raising one of `not_yet` means "not yet") until it is true. Raises
    if the process exits first or SERVER_START_TIMEOUT passes."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    last = None
    while True:
        try:
            if ready():
                return
        except not_yet as exc:
            last = exc
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not start ({last or 'not ready'}); see {log_path}")
        time.sleep(0.1)


class LiveServer:
    """A server process the tests started, serving HTTP at `url`."""

    def __init__(self, url: str, process: subprocess.Popen, log_path: Path, metrics_url: str | None = None):
        self.url = url
        self.process = process
        self.log_path = log_path
        self.metrics_url = metrics_url  # the metrics listener's /metrics, if it serves one

    def __call__(self, path: str) -> str:
        return self.url + path

    def request(self, method: str, path: str, session=None, **kwargs) -> requests.Response:
        """One request to this server (on `session` when given), bounded by REQUEST_TIMEOUT."""
        return (session or requests).request(method, self(path), timeout=REQUEST_TIMEOUT, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def stop(self) -> None:
        stop_process(self.process)


def start_gunicorn(database_url: str, folder: Path, **env_overrides: str) -> LiveServer:
    """The app under gunicorn (several workers) on a free loopback port, ready to serve.
    The environment is the tests' (their secrets, cheap bcrypt, metrics on another free
    port; the production worker model: gunicorn.conf.py's defaults, 2 gthread workers of 16
    threads and 4 connections) with `env_overrides` on top; gunicorn's log goes to
    folder/gunicorn.log."""
    port, metrics_port = free_ports(2)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JWT_SECRET": JWT_SECRET,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TICKET_SIGNING_KEY": TICKET_SIGNING_KEY,
        "BCRYPT_ROUNDS": "4",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "METRICS_PORT": str(metrics_port),
        "DEV_DATA_DIR": str(folder),
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",  # the tests' webhook receivers are on loopback
        # No webhook delivery loop unless a test asks for one: a server that outlives its
        # test must not deliver (or retry) what the next test's own deliveries expect.
        "WEBHOOK_DELIVERY_MS": "0",
        "WEBHOOK_RETRY_FIRST_MS": "200",
        **env_overrides,
    }
    log_path = folder / "gunicorn.log"
    with open(log_path, "w") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(GUNICORN_COMMAND, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    metrics_url = None
    if env["METRICS_PORT"] != "0":
        metrics_url = f"http://{env.get('METRICS_HOST') or '127.0.0.1'}:{env['METRICS_PORT']}/metrics"
    server = LiveServer(f"http://{env['HOST']}:{env['PORT']}", process, log_path, metrics_url)
    try:
        wait_until_ready(
            process,
            lambda: server.get("/healthz").status_code == 200,
            "gunicorn",
            log_path,
            not_yet=(requests.ConnectionError, requests.Timeout),
        )
    except BaseException:
        server.stop()
        raise
    return server
