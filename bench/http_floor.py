"""What one HTTP request costs this machine before the app does anything: gunicorn with the
app pool's worker model (gunicorn.conf.py: workers, worker class, threads, keep-alive)
serving a WSGI app that answers a fixed 200 JSON body at once, under the same wrk load as
`make bench`'s runs (64 kept-alive connections, 2 threads, a bearer token per request).

    .venv/bin/python -m bench.http_floor --rounds 3 --duration 8

Prints requests/s and the CPU the gunicorn processes spent per request (from /proc), per
round and their medians. No database, no Flask, no token check: any endpoint of the API
costs at least this, so it bounds what a cheap endpoint can gain over an expensive one on
the same machine (docs/waiting-room.md#why-joins-are-not-3x-purchases-here).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import subprocess
import sys
import time
import urllib.request

from bench import OUT_DIR, wrk
from bench.queue import _app_pids, _cpu_seconds
from bench.server import free_port
from ticketing.config import REPO_ROOT
from ticketing.frontdoor import gunicorn_conf

# About the size of a waiting-room entry (schemas.entry_json).
BODY = (
    b'{"event_id":"00000000-0000-0000-0000-000000000000","status":"waiting","position":1,'
    b'"joined_at":"2026-12-07T20:00:00Z","admitted_at":null,"pass":null,"pass_expires_at":null}'
)


def empty_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
    return [BODY]


def _wait_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not answer within 30 s")


def measure(*, rounds: int, duration: int, connections: int = 64) -> dict:
    """`rounds` wrk runs of `duration` seconds against the empty app: per round and the
    medians, requests/s and the gunicorn processes' CPU ms per request."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    conf = gunicorn_conf({**os.environ, "GUNICORN_POOL": "app"})
    marker_name, marker_value = "HTTP_FLOOR_RUN", secrets.token_hex(8)
    port = free_port()
    # Only these settings: not gunicorn.conf.py, which gunicorn would read from REPO_ROOT,
    # with its hooks for the real app.
    bare = OUT_DIR / "http-floor.gunicorn.conf.py"
    bare.write_text("")
    command = [sys.executable, "-m", "gunicorn", "-c", str(bare), "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(conf["workers"]), "--worker-class", conf["worker_class"]]
    command += ["--threads", str(conf["threads"]), "--keep-alive", str(conf["keepalive"])]
    command += ["--log-level", "warning", "bench.http_floor:empty_app"]
    process = subprocess.Popen(command, cwd=REPO_ROOT, env={**os.environ, marker_name: marker_value})
    url = f"http://127.0.0.1:{port}/api/v1/events/00000000-0000-0000-0000-000000000000/queue"
    token = "Bearer " + secrets.token_urlsafe(150)  # about a real token's length
    model = (
        f"{conf['workers']} x {conf['worker_class']}, {conf['threads']} threads,"
        f" keep-alive {conf['keepalive']} s; wrk -c{connections} -t2"
    )
    runs = []
    try:
        _wait_up(url, process)
        print(f"[http floor] gunicorn {model}", flush=True)
        for number in range(rounds):
            pids = _app_pids(f"{marker_name}={marker_value}")
            before = {pid: _cpu_seconds(pid) for pid in pids}
            load = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "-H", f"Authorization: {token}", url]
            done = subprocess.run(load, capture_output=True, text=True, check=True)
            spent = sum(_cpu_seconds(pid) - before[pid] for pid in pids)
            rate = float(re.search(r"^Requests/sec:\s+([\d.]+)", done.stdout, re.M).group(1))
            runs.append({"per_s": round(rate, 1), "cpu_ms": round(1000 * spent / (rate * duration), 3)})
            print(f"[http floor] round {number + 1}: {runs[-1]}", flush=True)
    finally:
        process.terminate()
        process.wait(15)
    return {
        "model": model,
        "runs": runs,
        "per_s": statistics.median(r["per_s"] for r in runs),
        "cpu_ms": statistics.median(r["cpu_ms"] for r in runs),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http_floor", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--connections", type=int, default=64)
    opts = parser.parse_args(argv)
    wrk.ensure_installed()
    floor = measure(rounds=opts.rounds, duration=opts.duration, connections=opts.connections)
    print(f"median: {floor['per_s']:.0f} requests/s, {floor['cpu_ms']:.3f} ms of gunicorn CPU per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
