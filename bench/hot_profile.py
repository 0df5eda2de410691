"""Where a purchase's CPU goes under load: py-spy on the app pool's workers during a wrk run
of purchases through the front door, and CPU per purchase from /proc.

    .venv/bin/python -m bench.hot_profile --duration 10          # one profile
    .venv/bin/python -m bench.hot_profile --no-profile --rounds 3 # CPU per purchase only

A fresh `ticketing_bench` database; the front door as `make bench` runs it
(`APP_MAX_CONNS=1024`, rate limits off), 64 wrk connections on one hot event, tokens
rotating. Per run it prints purchases/s, p50/p99, the CPU seconds the app workers, nginx
and PostgreSQL spent per purchase (from /proc, so the whole process: Python, C, kernel),
and with py-spy (`record --gil`: only samples holding the GIL, i.e. the workers' Python
time) the top frames by self time and the share of time inside a few key frames. The raw
py-spy output stays in bench/out/py-spy-<label>-<pid>.txt. `--env NAME=VALUE` (repeated)
overrides a setting, e.g. `--env GUNICORN_THREADS=8`.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import secrets
import statistics
import subprocess
import sys
import time
from functools import partial

import psutil

from bench import OUT_DIR, database, seed, server, wrk

PY_SPY = os.path.join(os.path.dirname(sys.executable), "py-spy")
# Inclusive shares worth watching: (label, regular expression on a frame)
KEY_FRAMES = [
    ("gunicorn main loop (accept, poll, callbacks)", r"^ThreadWorker\.run \(gunicorn/workers/gthread"),
    ("  of which finish_request (keep-alive or close)", r"^ThreadWorker\.finish_request \("),
    ("  of which a kept-alive connection readable again", r"^ThreadWorker\.on_client_socket_readable \("),
    ("gunicorn thread: handle (parse, app, respond)", r"^ThreadWorker\.handle \(gunicorn/workers/gthread"),
    ("  of which request parsing", r"^Parser\.__next__ \(gunicorn/http/parser"),
    ("the WSGI app (ProxyFix down)", r"^ProxyFix\.__call__ \("),
    ("  Flask (wsgi_app)", r"^Flask\.wsgi_app \(flask/app"),
    ("  webargs parsing (Parser.parse)", r"^Parser\.parse \(webargs/core"),
    ("  marshmallow dump", r"^Schema\.dump \(marshmallow"),
    ("  service.purchase (batcher, SQL)", r"^purchase \(ticketing/orders/service"),
    ("  request log + metrics", r"\(ticketing/observability\.py\)"),
]


def worker_pids(front_door_pid: int) -> list[int]:
    """The app pool's gunicorn workers under the front door process."""
    pids = []
    for child in psutil.Process(front_door_pid).children(recursive=True):
        try:
            if (
                child.environ().get("GUNICORN_POOL") == "app"
                and child.parent().environ().get("GUNICORN_POOL") == "app"
            ):
                pids.append(child.pid)
        except (psutil.Error, AttributeError):
            continue
    return pids


def cpu_seconds(pids) -> dict[int, float]:
    """CPU seconds (user + system) of each process still alive."""
    seconds = {}
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
            seconds[pid] = times.user + times.system
        except psutil.Error:
            pass
    return seconds


def cpu_spent(before: dict, after: dict) -> float:
    """CPU seconds spent between two readings by the processes alive at both."""
    return sum(after[pid] - before[pid] for pid in before.keys() & after.keys())


def group_pids(front_door_pid: int) -> dict[str, list[int]]:
    groups = {"app": worker_pids(front_door_pid), "nginx": [], "postgres": []}
    for proc in psutil.process_iter(["name", "cmdline"]):
        name = proc.info["name"] or ""
        if name.startswith("nginx"):
            groups["nginx"].append(proc.pid)
        elif name.startswith("postgres") or "postgres:" in " ".join(proc.info["cmdline"] or ()):
            groups["postgres"].append(proc.pid)
    return groups


def summarise(raw_files: list) -> dict:
    """Self and key-frame shares from py-spy's raw (collapsed) output."""
    self_time: collections.Counter = collections.Counter()
    keys: collections.Counter = collections.Counter()
    total = 0
    compiled = [(label, re.compile(pattern)) for label, pattern in KEY_FRAMES]
    for path in raw_files:
        for line in open(path):
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack:
                continue
            n = int(count)
            frames = stack.split(";")
            total += n
            self_time[frames[-1]] += n
            for label, pattern in compiled:
                if any(pattern.search(frame) for frame in frames):
                    keys[label] += n
    return {"samples": total, "self": self_time, "keys": keys}


def one_run(label, env, conn, tokens, admin_id, opts, profile: bool) -> dict:
    with server.running_front_door(env) as (base_url, log_path):
        front = _front_door_pid()
        groups = group_pids(front)
        event = seed.create_hot_event(conn, admin_id, f"Profile ({label})")
        drive = partial(
            wrk.run, base_url=base_url, tokens=tokens, event_id=event, connections=opts.connections, threads=2
        )
        drive(f"{label}-warmup", duration=opts.warmup)
        before_orders = database.wait_drained(conn, event)
        spies = []
        if profile:
            for pid in groups["app"]:
                out = OUT_DIR / f"py-spy-{label}-{pid}.txt"
                command = [PY_SPY, "record", "--gil", "--nolineno", "-r", str(opts.rate)]
                command += ["-d", str(opts.duration), "-f", "raw", "-o", str(out), "-p", str(pid)]
                spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                spies.append((out, spy))
        cpu = {name: cpu_seconds(pids) for name, pids in groups.items()}
        started = time.monotonic()
        measured = drive(label, duration=opts.duration)
        elapsed = time.monotonic() - started
        cpu = {name: cpu_spent(cpu[name], cpu_seconds(pids)) for name, pids in groups.items()}
        orders = database.wait_drained(conn, event) - before_orders
        for _out, spy in spies:
            spy.wait()
    result = {
        "purchases_per_s": orders / opts.duration,
        "p50_ms": measured.get("p50_ms"),
        "p99_ms": measured.get("p99_ms"),
        "statuses": measured.get("statuses"),
        "cpu_ms_per_purchase": {name: round(1000 * s / max(orders, 1), 3) for name, s in cpu.items()},
        "wall_s": round(elapsed, 1),
    }
    if spies:
        result["profile"] = summarise([out for out, _ in spies if out.exists()])
    return result


def _front_door_pid() -> int:
    """The running front door (bench.server started it in its own session)."""
    me = os.getpid()
    for proc in psutil.Process(me).children():
        if "ticketing.frontdoor" in " ".join(proc.cmdline()):
            return proc.pid
    raise SystemExit("front door process not found")


def print_profile(profile: dict, top: int) -> None:
    total = profile["samples"] or 1
    print(f"  py-spy samples (GIL held): {profile['samples']}")
    print("  inclusive share of key frames:")
    for label, _ in KEY_FRAMES:
        print(f"    {100 * profile['keys'][label] / total:5.1f} %  {label}")
    print(f"  top {top} frames by self time:")
    for frame, n in profile["self"].most_common(top):
        print(f"    {100 * n / total:5.1f} %  {frame}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hot_profile", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second (200)")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--no-profile", action="store_true", help="CPU per purchase only (no py-spy)")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the app (repeatable)")
    opts = parser.parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    wrk.ensure_installed()
    url, _ = database.bench_target()
    database.recreate(url)
    conn = database.connect(url)
    jwt_secret = secrets.token_urlsafe(48)
    env = {**server.production_env(database_url=url, jwt_secret=jwt_secret), "APP_MAX_CONNS": "1024"}
    env.update(item.split("=", 1) for item in opts.env)
    admin_id, user_ids = seed.create_users(conn, 1000)
    tokens = seed.mint_tokens(user_ids, jwt_secret)
    runs = []
    for number in range(opts.rounds):
        label = f"profile-{number + 1}"
        run = one_run(label, env, conn, tokens, admin_id, opts, profile=not opts.no_profile)
        runs.append(run)
        profile = run.pop("profile", None)
        print(f"{label}: {run}", flush=True)
        if profile:
            print_profile(profile, opts.top)
    if len(runs) > 1:
        for key in ("purchases_per_s", "p99_ms"):
            print(f"median {key}: {statistics.median(r[key] for r in runs)}")
        for name in runs[0]["cpu_ms_per_purchase"]:
            print(
                f"median CPU ms per purchase, {name}: "
                f"{statistics.median(r['cpu_ms_per_purchase'][name] for r in runs)}"
            )
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
