"""The front door: nginx in front of two gunicorn pools, as one foreground command.

    python -m ticketing.frontdoor      what `make run` runs (after the migrations)

nginx listens on HOST:PORT and is the one public listener; gunicorn listens on unix
sockets only: the "app" pool (WEB_CONCURRENCY workers) serves everything but bcrypt, the
"auth" pool (AUTH_WEB_CONCURRENCY workers) serves login, signup and PATCH /me, so bcrypt
never takes the workers purchases need (docs/deployment.md). The nginx configuration is
deploy/nginx/*.template, rendered here exactly as the official nginx image renders it in
docker-compose.yml (${NAME} from the environment); only the values differ.

Everything one instance creates (rendered configuration, sockets, pid file, nginx's
temporary files and access log) lives in <DEV_DATA_DIR>/run/<PORT>/, so several instances
run side by side. SIGINT or SIGTERM (to this process or its process group) stops nginx and
both pools and leaves nothing running. Without nginx, and no way to install it, it says so
and serves gunicorn alone on 127.0.0.1:PORT.
"""

from __future__ import annotations

import ctypes
import getpass
import os
import re
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ticketing.config import DEFAULT_DEV_DATA_DIR, REPO_ROOT, default_metrics_port

NGINX_DIR = REPO_ROOT / "deploy" / "nginx"
TEMPLATES = ("nginx.conf.template", "ticketing.conf.template", "tls.conf.template")
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 15  # past gunicorn's graceful_timeout (10 s)
MAX_UNIX_PATH = 100  # sun_path is 108 bytes on Linux


@dataclass(frozen=True)
class Setting:
    default: str
    pattern: str  # what a valid value looks like (a regular expression)
    meaning: str


# The front door's settings (README "Configuration"), read from the environment with these
# defaults by this module and by docker-compose.yml (which repeats the defaults; a test
# keeps both in step). docs/deployment.md explains the numbers.
SETTINGS: dict[str, Setting] = {
    "RATE_LIMITS": Setting("on", r"(?i)on|off", "every rate limit on or off (the app reads it too)"),
    "RATE_LIMIT_LOGIN_PER_MINUTE": Setting("10", r"[1-9][0-9]{0,5}", "logins per client IP"),
    "RATE_LIMIT_LOGIN_BURST": Setting("20", r"[1-9][0-9]{0,5}", "logins per client IP beyond the rate"),
    "RATE_LIMIT_SIGNUP_PER_MINUTE": Setting("5", r"[1-9][0-9]{0,5}", "signups per client IP"),
    "RATE_LIMIT_SIGNUP_BURST": Setting("10", r"[1-9][0-9]{0,5}", "signups per client IP beyond the rate"),
    "RATE_LIMIT_ORDERS_PER_SECOND": Setting("5", r"[1-9][0-9]{0,5}", "POST /orders per user"),
    "RATE_LIMIT_ORDERS_BURST": Setting("10", r"[1-9][0-9]{0,5}", "POST /orders per user beyond the rate"),
    "APP_MAX_CONNS": Setting("16", r"[1-9][0-9]{0,4}", "requests in flight in the app pool; beyond: 503"),
    "AUTH_MAX_CONNS": Setting("4", r"[1-9][0-9]{0,4}", "requests in flight in the auth pool; beyond: 503"),
    "OVERLOAD_RETRY_AFTER": Setting("2", r"[1-9][0-9]{0,3}", "Retry-After (s) of the front door's 503"),
    "NGINX_CLIENT_TIMEOUT": Setting(
        "10s", r"[1-9][0-9]{0,3}(ms|s)?", "longest pause in a client's header or body"
    ),
    "NGINX_MAX_BODY": Setting("1m", r"[1-9][0-9]{0,6}[km]?", "largest request body (413 beyond)"),
    "NGINX_IMAGE_MAX_BODY": Setting("8m", r"[1-9][0-9]{0,6}[km]?", "largest event image upload"),
}


# How requests reach the app pool's workers (README "Configuration", docs/deployment.md):
# "nginx" (default): one gunicorn per worker, each on its own socket, and nginx sends each
# request to the one with the fewest requests in flight (least_conn); "kernel": one gunicorn
# whose WEB_CONCURRENCY workers share one socket, each connection kept by whichever worker
# accepted it (nginx keeps its connections alive, so an early imbalance stays).
BALANCING = ("nginx", "kernel")


class FrontDoorError(Exception):
    """The front door cannot start as configured."""


def gunicorn_conf(env) -> dict:
    """gunicorn.conf.py's values (workers, worker_class, threads, ...) under `env`."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        return runpy.run_path(str(REPO_ROOT / "gunicorn.conf.py"))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def shares(total: int, parts: int) -> list[int]:
    """`total` split into `parts` whole shares that differ by at most one, each at least 1
    (nginx has no max_conns=0: a total under `parts` admits `parts`)."""
    return [max(1, total // parts + (1 if n < total % parts else 0)) for n in range(parts)]


def settings_from(env) -> dict[str, str]:
    """The front door's settings from `env`, with their defaults; FrontDoorError if bad."""
    values = {}
    for name, setting in SETTINGS.items():
        value = (env.get(name) or setting.default).strip()
        if not re.fullmatch(setting.pattern, value):
            raise FrontDoorError(f"{name} must match {setting.pattern!r}, got {value!r}")
        values[name] = value
    return values


_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def render(template: str, values: dict[str, str]) -> str:
    """${NAME} → values[NAME], as the nginx image's envsubst does; every name must be known."""
    missing = sorted({m for m in _PLACEHOLDER.findall(template) if m not in values})
    if missing:
        raise FrontDoorError(f"no value for {', '.join(missing)} in the nginx templates")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def render_all(target: Path, values: dict[str, str]) -> Path:
    """Render every template of deploy/nginx into `target`; the main configuration's path."""
    target.mkdir(parents=True, exist_ok=True)
    for name in TEMPLATES:
        text = render((NGINX_DIR / name).read_text(), values)
        (target / name.removesuffix(".template")).write_text(text)
    return target / "nginx.conf"


# --- nginx itself ---------------------------------------------------------------------


def find_nginx() -> str | None:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin:/sbin")


def ensure_nginx(say=print) -> str | None:
    """nginx's path, installing Debian's `nginx` with apt-get when it is missing (as
    `make bench` installs wrk). None, after saying why, when that is not possible."""
    found = find_nginx()
    if found:
        return found
    if shutil.which("apt-get") is None:
        say("nginx is not installed and there is no apt-get to install it")
        return None
    sudo = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if sudo is None:
        say("nginx is not installed and installing it needs root: apt-get install nginx")
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*sudo, "apt-get", "install", "-y", "-q", "--no-install-recommends", "nginx"]
    say("nginx is not installed: installing Debian's nginx (apt-get install nginx)")
    if subprocess.call(install, env=env, stdout=sys.stderr) != 0:
        subprocess.call([*sudo, "apt-get", "update", "-q"], env=env, stdout=sys.stderr)
        if subprocess.call(install, env=env, stdout=sys.stderr) != 0:
            say("could not install nginx with apt-get")
            return None
    found = find_nginx()
    if found is None:
        say("apt-get reported success but nginx is still not to be found")
    return found


# --- one instance -----------------------------------------------------------------------


def run_dir_for(env, port: int) -> Path:
    return Path(env.get("DEV_DATA_DIR") or DEFAULT_DEV_DATA_DIR).resolve() / "run" / str(port)


def port_is_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as nginx binds
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _die_with_parent() -> None:
    """In a child before exec: SIGTERM when the front door dies, even by SIGKILL."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def http_status_over(connect, path: str = "/healthz", timeout: float = 2.0) -> int | None:
    """GET `path` on a fresh connection made by connect(); the status, None if no answer."""
    try:
        with connect() as conn:
            conn.settimeout(timeout)
            conn.sendall(f"GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n".encode())
            head = conn.recv(64).decode("latin-1")
    except OSError:
        return None
    match = re.match(r"HTTP/1\.[01] (\d{3})", head)
    return int(match.group(1)) if match else None


def _unix(path: Path):
    def connect():
        conn = socket.socket(socket.AF_UNIX)
        try:
            conn.connect(str(path))
        except OSError:
            conn.close()
            raise
        return conn

    return connect


class FrontDoor:
    """nginx on host:port in front of the app and auth pools on unix sockets."""

    def __init__(self, env: dict[str, str], nginx: str):
        self.env = dict(env)
        self.nginx = nginx
        self.host = env.get("HOST") or "127.0.0.1"
        self.port = int(env.get("PORT") or "8080")
        self.settings = settings_from(env)
        self.run_dir = run_dir_for(env, self.port)
        self.balancing = (env.get("APP_BALANCING") or BALANCING[0]).strip().lower()
        if self.balancing not in BALANCING:
            raise FrontDoorError(f"APP_BALANCING must be {' or '.join(BALANCING)}, got {self.balancing!r}")
        self.app_workers = int(gunicorn_conf({**env, "GUNICORN_POOL": "app"})["workers"])
        instances = self.app_workers if self.balancing == "nginx" else 1
        # The app pool's gunicorn instances: the first on app.sock, the others on app-N.sock.
        self.app_sockets = [self.run_dir / "app.sock"]
        self.app_sockets += [self.run_dir / f"app-{n}.sock" for n in range(2, instances + 1)]
        self.app_socket = self.app_sockets[0]
        self.auth_socket = self.run_dir / "auth.sock"
        for path in (self.auth_socket, self.app_sockets[-1]):
            if len(str(path)) > MAX_UNIX_PATH:
                raise FrontDoorError(f"{path} is too long for a unix socket: use a shorter DEV_DATA_DIR")
        self.processes: list[tuple[str, subprocess.Popen]] = []

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def nginx_values(self) -> dict[str, str]:
        tls_dir = self.env.get("TLS_CERT_DIR")
        conf_dir = self.run_dir / "nginx"
        # APP_MAX_CONNS is the whole pool's: each instance gets its share of it.
        limits = shares(int(self.settings["APP_MAX_CONNS"]), len(self.app_sockets))
        more_apps = "/dev/null"
        if len(self.app_sockets) > 1:
            conf_dir.mkdir(parents=True, exist_ok=True)
            more_apps = str(conf_dir / "app-instances.conf")
            Path(more_apps).write_text(
                "".join(
                    f"server unix:{path} max_conns={limit};\n"
                    for path, limit in zip(self.app_sockets[1:], limits[1:])
                )
            )
        return {
            **self.settings,
            "NGINX_USER": getpass.getuser(),
            "NGINX_WORKER_PROCESSES": self.env.get("NGINX_WORKER_PROCESSES") or "auto",
            "NGINX_RUN_DIR": str(self.run_dir),
            "NGINX_ERROR_LOG": "stderr",
            "NGINX_ACCESS_LOG": str(self.run_dir / "access.log"),
            "NGINX_LISTEN": f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}",
            "APP_UPSTREAM": f"unix:{self.app_socket}",
            "APP_SERVER_MAX_CONNS": str(limits[0]),
            "AUTH_UPSTREAM": f"unix:{self.auth_socket}",
            # Further server lines of each upstream: the app pool's other instances, or
            # `make cluster`'s (ticketing/cluster.py).
            "APP_UPSTREAM_MORE": more_apps,
            "AUTH_UPSTREAM_MORE": "/dev/null",
            # TLS only when asked (TLS_CERT_DIR holding tls.crt and tls.key, TLS_PORT).
            "NGINX_TLS_CONF": str(conf_dir / "tls.conf") if tls_dir else "/dev/null",
            "NGINX_TLS_DIR": str(Path(tls_dir).resolve()) if tls_dir else "/nonexistent",
            "NGINX_TLS_LISTEN": f"{self.host}:{self.env.get('TLS_PORT') or '8443'}",
        }

    def prepare(self) -> Path:
        if not port_is_free(self.host, self.port):
            raise FrontDoorError(f"{self.host}:{self.port} is already in use (PORT=... to pick another)")
        if self.run_dir.exists():  # leftovers of an instance on this PORT that was killed
            shutil.rmtree(self.run_dir)
        self.run_dir.mkdir(parents=True)
        for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.run_dir / temp).mkdir()
        return render_all(self.run_dir / "nginx", self.nginx_values())

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, preexec_fn=_die_with_parent)
        self.processes.append((name, process))
        return process

    def _wait_ready(self, name: str, process: subprocess.Popen, connect) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while http_status_over(connect) != 200:
            if process.poll() is not None:
                raise FrontDoorError(f"{name} exited with {process.returncode} at start")
            if time.monotonic() > deadline:
                raise FrontDoorError(f"{name} did not answer /healthz within {START_TIMEOUT_S} s")
            time.sleep(0.1)

    def start(self) -> None:
        conf = self.prepare()
        # Each pool's first master serves its metrics: the app pool on METRICS_PORT, the auth
        # pool on the next port (docs/operations.md); 0 turns both off.
        metrics_port = self.env.get("METRICS_PORT") or str(default_metrics_port(self.port))
        metrics_on = metrics_port.strip() != "0"
        app = {}
        if len(self.app_sockets) > 1:
            # One worker each; their metrics in one folder, which the first one serves
            # (gunicorn.conf.py: it empties the folder at start, the others only add to it).
            app = {"WEB_CONCURRENCY": "1"}
            if metrics_on and not self.env.get("PROMETHEUS_MULTIPROC_DIR"):
                app["PROMETHEUS_MULTIPROC_DIR"] = str(self.run_dir / "metrics-app")
        # (GUNICORN_POOL, name, socket, environment on top of the front door's)
        pools = [
            ("app", f"app pool {n}" if n > 1 else "app pool", path, {**app, "APP_INSTANCE": str(n)})
            for n, path in enumerate(self.app_sockets, start=1)
        ]
        for _, _, _, overrides in pools[1:]:
            overrides["METRICS_PORT"] = "0"
        # The auth pool's bcrypt is its whole job; the app pool sweeps expired holds.
        auth = {"WEB_CONCURRENCY": self.env.get("AUTH_WEB_CONCURRENCY") or "1", "EXPIRY_SWEEP_MS": "0"}
        if metrics_on:
            auth["METRICS_PORT"] = str(int(metrics_port) + 1)
            if self.env.get("PROMETHEUS_MULTIPROC_DIR"):
                auth["PROMETHEUS_MULTIPROC_DIR"] = self.env["PROMETHEUS_MULTIPROC_DIR"] + "-auth"
        pools.append(("auth", "auth pool", self.auth_socket, auth))
        # One after the other: the admin bootstrap (gunicorn.conf.py) runs once at a time.
        for pool, name, path, overrides in pools:
            env = {**self.env, **overrides, "GUNICORN_BIND": f"unix:{path}", "GUNICORN_POOL": pool}
            process = self._spawn(f"gunicorn ({name})", GUNICORN, env)
            self._wait_ready(f"gunicorn ({name})", process, _unix(path))
        command = [self.nginx, "-p", str(self.run_dir), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"]
        process = self._spawn("nginx", command, self.env)
        self._wait_ready(
            "nginx", process, lambda: socket.create_connection((self.host, self.port), timeout=2)
        )

    def watch(self) -> int:
        """Until one process exits (then 1) or a stop signal arrives (then 0)."""
        while True:
            for name, process in self.processes:
                if process.poll() is not None:
                    print(f"{name} exited with {process.returncode}: stopping", file=sys.stderr, flush=True)
                    return 1
            time.sleep(0.2)

    def stop(self) -> None:
        """nginx first (no new requests), then both pools, gracefully; SIGKILL what stays."""
        for name, process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGQUIT if name == "nginx" else signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for _, process in self.processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for path in (*self.app_sockets, self.auth_socket):
            path.unlink(missing_ok=True)


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise _Stop


def serve_without_nginx(env: dict[str, str]) -> None:
    port = env.get("PORT") or "8080"
    print(
        f"WITHOUT the front door: gunicorn alone on http://127.0.0.1:{port}, loopback only "
        "(no slow-client buffering, no bcrypt bulkhead, no rate limits). "
        "Install nginx (apt-get install nginx) for the production topology.",
        file=sys.stderr,
        flush=True,
    )
    os.chdir(REPO_ROOT)
    env = {**env, "HOST": "127.0.0.1", "PORT": port, "GUNICORN_BIND": ""}
    os.execvpe(GUNICORN[0], GUNICORN, env)


def main() -> int:
    env = dict(os.environ)
    nginx = ensure_nginx(say=lambda message: print(message, file=sys.stderr, flush=True))
    if nginx is None:
        serve_without_nginx(env)
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    try:
        door = FrontDoor(env, nginx)
    except FrontDoorError as exc:
        print(f"front door: {exc}", file=sys.stderr, flush=True)
        return 2
    status = 0
    try:
        door.start()
        print(
            f"serving on {door.url} (nginx → gunicorn app and auth pools in {door.run_dir}; "
            f"nginx access log {door.run_dir / 'access.log'})",
            flush=True,
        )
        status = door.watch()
    except _Stop:
        pass
    except FrontDoorError as exc:
        print(f"front door: {exc}", file=sys.stderr, flush=True)
        status = 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        door.stop()
    return status


if __name__ == "__main__":
    sys.exit(main())
