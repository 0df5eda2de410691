"""Step 4: wrk against POST /api/v1/orders, one hot event, tokens rotating per request
(the Lua script is bench/purchase.lua, filled in per run)."""

import json
import os
import re
import secrets
import shutil
import string
import subprocess

from bench import BENCH_DIR, OUT_DIR
from bench.output import run_keeping_output

ORDERS_PATH = "/api/v1/orders"
# An extra_headers value meaning "a fresh value on every request" (e.g. Idempotency-Key).
UNIQUE = "<unique per request>"


def ensure_installed() -> str:
    if shutil.which("wrk"):
        return shutil.which("wrk")
    if shutil.which("apt-get") is None:
        raise SystemExit("wrk is not installed and there is no apt-get to install it: install wrk")
    sudo = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if sudo is None:
        raise SystemExit("wrk is not installed and installing it needs root: apt-get install wrk")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*sudo, "apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.call(install, env=env) != 0:
        subprocess.call([*sudo, "apt-get", "update", "-q"], env=env)
        if subprocess.call(install, env=env) != 0:
            raise SystemExit("could not install wrk with apt-get: install it by hand")
    if shutil.which("wrk") is None:
        raise SystemExit("apt-get reported success but wrk is still not on PATH")
    print("installed wrk from Debian (apt-get install wrk)", flush=True)
    return shutil.which("wrk")


def lua(value) -> str:
    """A Lua literal for a string, a list of strings or a dict of strings (ASCII only)."""
    if value is None:
        return "nil"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{lua(k)}] = {lua(v)}" for k, v in value.items()) + "}"
    return "{\n" + "".join(f"  {lua(v)},\n" for v in value) + "}"


def run(
    label: str,
    *,
    base_url: str,
    tokens: list[str],
    event_id: str,
    duration: int,
    connections: int,
    threads: int = 2,
    extra_headers: dict[str, str] | None = None,
    path: str | None = None,
    method: str = "POST",
) -> dict:
    """One wrk run against POST /api/v1/orders (or, with `path`, a `method` request with no
    body to that path, e.g. joining a waiting room, or GET polling it). `extra_headers` are
    added to every request;
    a value of UNIQUE gets a fresh value per request (e.g. {"Idempotency-Key": UNIQUE})."""
    extra_headers = extra_headers or {}
    threads = min(threads, connections)
    template = string.Template((BENCH_DIR / "purchase.lua").read_text())
    script = OUT_DIR / f"wrk-{label}.lua"
    script.write_text(
        template.substitute(
            tokens=lua(tokens),
            body=lua(None if path else json.dumps({"event_id": str(event_id), "quantity": 1})),
            path=lua(path or ORDERS_PATH),
            method=lua(method),
            static_headers=lua({k: v for k, v in extra_headers.items() if v != UNIQUE}),
            unique_headers=lua([k for k, v in extra_headers.items() if v == UNIQUE]),
            nonce=lua(f"{label}-{secrets.token_hex(6)}"),
            nthreads=threads,
        )
    )
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    command += ["-s", str(script), base_url + (path or ORDERS_PATH)]
    print(f"[{label}] {' '.join(command)}", flush=True)
    done = run_keeping_output(command, f"wrk-{label}")
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return parse(done.stdout)


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def parse(text: str) -> dict:
    latency = {
        f"p{p}_ms": round(float(v) * _UNIT_MS[unit], 3)
        for p, v, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M)
    }
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    statuses = re.search(r"^STATUSES(.*)$", text, re.M)
    return {
        "requests_per_s": float(rps.group(1)) if rps else None,
        **latency,
        "statuses": dict(part.split("=") for part in statuses.group(1).split()) if statuses else {},
        "socket_errors": dict(zip(("connect", "read", "write", "timeout"), map(int, errors.groups())))
        if errors
        else {},
    }
