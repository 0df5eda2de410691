"""The front door as the tests run it: `python -m ticketing.frontdoor` (what `make run`
runs after the migrations), nginx and both gunicorn pools, on a free port, in a process
group of its own; plus a raw HTTP/1.1 client for what `requests` hides (keep-alive,
trickling, thousands of connections)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import requests

from tests.support import ROOT
from tests.support.samples import JWT_SECRET, WEBHOOK_SECRET
from tests.support.servers import LiveServer, free_adjacent_ports, free_port, wait_until_ready
from tests.support.timeouts import SERVER_STOP_TIMEOUT, WAIT_TIMEOUT
from ticketing import frontdoor

FRONT_DOOR_COMMAND = [sys.executable, "-m", "ticketing.frontdoor"]


def nginx_or_fail() -> str:
    """nginx, installed by the front door's own helper if missing. The front door tests
    never skip: where nginx cannot be had, they fail and say why."""
    reasons = []
    found = frontdoor.ensure_nginx(say=reasons.append)
    if found is None:
        raise AssertionError("the front door tests need nginx: " + "; ".join(reasons))
    return found


def group_processes(pgid: int) -> list[int]:
    """Every live (non-zombie) process of process group `pgid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # state, ppid, pgrp, ...
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(entry.name))
    return found


def app_masters(server) -> dict[str, psutil.Process]:
    """The app pool's gunicorn masters of a running front door, by APP_INSTANCE ("1", "2",
    ...: one per worker with APP_BALANCING=nginx); their children are the pool's workers."""
    masters = {}
    for pid in group_processes(server.process.pid):
        try:
            process = psutil.Process(pid)
            env = process.environ()
            parent = psutil.Process(process.ppid()).environ()
        except psutil.Error:  # gone meanwhile
            continue
        if env.get("GUNICORN_POOL") == "app" and parent.get("GUNICORN_POOL") != "app":
            masters[env.get("APP_INSTANCE", "1")] = process
    return masters


class FrontDoorServer(LiveServer):
    """A running front door: `url` is nginx; `folder` holds its DEV_DATA_DIR and log."""

    def __init__(self, url, process, log_path, folder: Path, env: dict[str, str]):
        super().__init__(url, process, log_path)
        self.folder = folder
        self.port = int(env["PORT"])
        self.metrics_port = int(env.get("METRICS_PORT") or 0)  # the app pool's; the auth pool: + 1
        self.run_dir = frontdoor.run_dir_for(env, self.port)

    def log_lines(self) -> list[dict]:
        """The app's JSON request log lines so far."""
        lines = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    pass
        return lines

    def access_log(self) -> list[dict]:
        """nginx's JSON access log lines so far."""
        path = self.run_dir / "access.log"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def signal_group(self, signum: int) -> None:
        os.killpg(self.process.pid, signum)

    def stop(self) -> None:
        """SIGTERM to the whole process group, as a terminal's Ctrl-C or a supervisor does;
        SIGKILL to what is left after SERVER_STOP_TIMEOUT."""
        if self.process.poll() is None:
            try:
                self.signal_group(signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            self.process.wait(SERVER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            self.process.wait(SERVER_STOP_TIMEOUT)
        deadline = time.monotonic() + SERVER_STOP_TIMEOUT
        while group_processes(self.process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in group_processes(self.process.pid):
            os.kill(pid, signal.SIGKILL)


def front_door_environment(database_url: str, folder: Path, **env_overrides: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "JWT_SECRET": JWT_SECRET,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "BCRYPT_ROUNDS": "4",
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        # both pools' metrics listeners on ports known free (PORT + 1000 may not be)
        "METRICS_PORT": str(free_adjacent_ports()),
        # the app pool's workers, threads and connections: the production defaults
        "DEV_DATA_DIR": str(folder),
        "NGINX_WORKER_PROCESSES": "1",
        # no background writers (as start_gunicorn): a sweep racing the tests' TRUNCATE
        # between tests can deadlock it
        "EXPIRY_SWEEP_MS": "0",
        "QUEUE_ADMIT_MS": "0",
        "WEBHOOK_DELIVERY_MS": "0",
        **env_overrides,
    }


def short_folder() -> Path:
    """A folder whose sockets' paths fit a unix socket's 108 bytes (pytest's may not)."""
    return Path(tempfile.mkdtemp(prefix="fd-", dir="/tmp"))


def start_front_door(
    database_url: str, command=None, served_by: str = "nginx", **env_overrides: str
) -> FrontDoorServer:
    """The front door on a free port, ready (`served_by` answers /healthz: nginx, or
    gunicorn when it runs alone), in its own process group; its whole output (the app's
    JSON log, gunicorn's, nginx's errors) goes to <folder>/frontdoor.log."""
    folder = short_folder()
    env = front_door_environment(database_url, folder, **env_overrides)
    log_path = folder / "frontdoor.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command or FRONT_DOOR_COMMAND,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = FrontDoorServer(f"http://127.0.0.1:{env['PORT']}", process, log_path, folder, env)
    try:
        wait_until_ready(
            process,
            lambda: (
                requests.get(server("/healthz"), timeout=2).headers.get("Server", "").startswith(served_by)
            ),
            f"the front door ({served_by})",
            log_path,
            not_yet=(requests.ConnectionError, requests.Timeout),
        )
    except BaseException:
        server.stop()
        raise
    return server


def remove(server: FrontDoorServer) -> None:
    server.stop()
    shutil.rmtree(server.folder, ignore_errors=True)


# --- a raw HTTP/1.1 client -----------------------------------------------------------------


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes, seconds: float):
        self.status, self.headers, self.body, self.seconds = status, headers, body, seconds

    def json(self):
        return json.loads(self.body)


_STATUS = re.compile(rb"HTTP/1\.1 (\d{3})")


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(_STATUS.match(lines[0].encode()).group(1))
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


class Connection:
    """One keep-alive HTTP/1.1 connection (asyncio streams)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, headers=None, body: bytes = b"") -> Answer:
        if self.writer is None:
            await self.open()
        started = time.perf_counter()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body or method in ("POST", "PATCH", "PUT"):
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        status, answer_headers, answer_body = await asyncio.wait_for(read_answer(self.reader), WAIT_TIMEOUT)
        if answer_headers.get("connection", "").lower() == "close":
            await self.close()
        return Answer(status, answer_headers, answer_body, time.perf_counter() - started)

    async def close(self):
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None
