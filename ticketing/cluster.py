"""`make cluster`: the several-machine topology, on this machine, on loopback.

    python -m ticketing.cluster up       start it all (harmless when it already runs)
    python -m ticketing.cluster down     stop it all (`make cluster-stop`)
    python -m ticketing.cluster status   what runs, as .devdata/cluster/cluster.json says
    python -m ticketing.cluster restart-pgbouncer

    clients ─► nginx ─┬─► app-1 (gunicorn) ─┐
                      ├─► app-2 (gunicorn) ─┼─► PgBouncer ─► HAProxy ─┬─► pg1 (Patroni)
                      └─► app-N (gunicorn) ─┘  (transaction) (/primary) └─► pg2 (Patroni)
                                                                        etcd: the leader key

- CLUSTER_APPS app instances (default 3), each its own gunicorn on its own unix socket;
  nginx is the front door's configuration (deploy/nginx) with every instance in its
  upstreams, and passes a request that could not reach an instance to the next one.
- PgBouncer in transaction pooling mode (the apps run with DB_POOLER=transaction).
- HAProxy sends PgBouncer's server connections to whichever node answers 200 on Patroni's
  REST API `/primary`: Patroni's documented way; after a failover HAProxy's check moves
  within ~2 s and cuts the sessions to the old primary, and nothing is re-configured.
- Two PostgreSQL 15 nodes under Patroni, etcd as its store, synchronous_mode: true: a
  commit is acknowledged only once the standby has it, so losing the primary loses no
  confirmed sale. primary_start_timeout 0: a crashed primary fails over at once rather
  than restarting in place.

Every program is Debian's (installed with apt-get when missing). Everything lives under
<DEV_DATA_DIR>/cluster/ (logs included); every process is started detached, so `make
cluster` returns and the cluster keeps running until `make cluster-stop`. Ports: nginx on
CLUSTER_PORT, the others right above it (docs/deployment.md).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ticketing import devdb, frontdoor, pooler
from ticketing.config import DEFAULT_DEV_DATA_DIR, REPO_ROOT

PACKAGES = {
    "nginx": "nginx",
    "pgbouncer": "pgbouncer",
    "haproxy": "haproxy",
    "patroni": "patroni",
    "etcd": "etcd-server",
}
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_PACKAGE = "postgresql-15"
DATABASE = "ticketing"
APP_LOGIN = devdb.DEV_APP_LOGIN
START_TIMEOUT_S = 120
STOP_TIMEOUT_S = 20
SCOPE = "ticketing"

# Offsets from CLUSTER_PORT (nginx).
OFFSETS = {"pgbouncer": 1, "haproxy": 2, "etcd": 3, "etcd_peer": 4}
NODE_OFFSET = 5  # node i (0-based): postgres at +5+2i, Patroni's REST API at +6+2i
METRICS_OFFSET = 20  # app n (1-based): its metrics listener (METRICS_PORT) at +20+n
NODES = ("pg1", "pg2")


@dataclass(frozen=True)
class Layout:
    """Where everything of one cluster is: folders and ports, from the environment."""

    root: Path
    port: int
    apps: int
    pool_size: int

    @classmethod
    def from_env(cls, env) -> Layout:
        data_dir = Path(env.get("DEV_DATA_DIR") or DEFAULT_DEV_DATA_DIR).resolve()
        port = _int(env, "CLUSTER_PORT", 8090, 1024, 65000)
        return cls(
            root=data_dir / "cluster",
            port=port,
            apps=_int(env, "CLUSTER_APPS", 3, 1, 32),
            pool_size=_int(env, "CLUSTER_POOL_SIZE", 8, 1, 500),
        )

    def at(self, name: str) -> int:
        return self.port + OFFSETS[name]

    def pg_port(self, i: int) -> int:
        return self.port + NODE_OFFSET + 2 * i

    def rest_port(self, i: int) -> int:
        return self.port + NODE_OFFSET + 2 * i + 1

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def info_file(self) -> Path:
        return self.root / "cluster.json"

    def node_dsn(self, i: int, dbname: str = DATABASE) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.pg_port(i)}/{dbname}"

    @property
    def pgbouncer_dsn(self) -> str:
        return f"postgresql://{APP_LOGIN}@127.0.0.1:{self.at('pgbouncer')}/{DATABASE}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _int(env, name, default, low, high) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise SystemExit(f"{name} must be an integer from {low} to {high}, got {raw!r}")
    return int(raw)


def say(message: str) -> None:
    print(f"cluster: {message}", file=sys.stderr, flush=True)


# --- processes -------------------------------------------------------------------------


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


SPAWNED: list[int] = []  # every process this one started, newest last


def spawn(command: list[str], log: Path, env: dict[str, str] | None = None, user: str | None = None) -> int:
    """Start `command` detached (its own session, not our child once we exit); its pid."""
    with open(log, "ab") as handle:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env if env is not None else os.environ.copy(),
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=user,
        )
    SPAWNED.append(process.pid)
    return process.pid


def stop_pid(pid: int | None, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT_S) -> None:
    if not alive(pid):
        return
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        _reap()
        time.sleep(0.1)
    if alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        while alive(pid) and time.monotonic() < deadline + 5:
            _reap()
            time.sleep(0.1)


def _reap() -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def wait_for(check, what: str, pids: list[int] = (), timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (OSError, ValueError):
            pass
        for pid in pids:
            if not alive(pid):
                raise SystemExit(f"cluster: {what}: the process exited (see the logs in its folder)")
        if time.monotonic() > deadline:
            raise SystemExit(f"cluster: {what}: not ready after {timeout} s")
        time.sleep(0.2)


def http_status(url: str, timeout: float = 2.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


def http_json(url: str, timeout: float = 2.0):
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        return json.loads(answer.read())


def port_answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


# --- the pieces ------------------------------------------------------------------------


def server_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, the servers run as `postgres`."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise SystemExit(
            "cluster: running as root needs a `postgres` user (Debian's postgresql-15 makes one)"
        ) from None
    return "postgres"


def give(path: Path, user: str | None) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def start_etcd(layout: Layout, programs) -> int:
    folder = layout.root / "etcd"
    folder.mkdir(parents=True, exist_ok=True)
    client = f"http://127.0.0.1:{layout.at('etcd')}"
    peer = f"http://127.0.0.1:{layout.at('etcd_peer')}"
    command = [
        programs["etcd"],
        "--name",
        "etcd1",
        "--data-dir",
        str(folder / "data"),
        "--listen-client-urls",
        client,
        "--advertise-client-urls",
        client,
        "--listen-peer-urls",
        peer,
        "--initial-advertise-peer-urls",
        peer,
        "--initial-cluster",
        f"etcd1={peer}",
        "--initial-cluster-state",
        "new",
        "--log-level",
        "warn",
    ]
    pid = spawn(command, folder / "etcd.log")
    wait_for(lambda: http_status(f"{client}/health") == 200, "etcd", [pid])
    return pid


def patroni_yml(layout: Layout, i: int) -> str:
    name = NODES[i]
    node_dir = layout.root / name
    return f"""# Patroni for node {name} of `make cluster` (ticketing/cluster.py writes it)
scope: {SCOPE}
namespace: /service/
name: {name}
restapi:
  listen: 127.0.0.1:{layout.rest_port(i)}
  connect_address: 127.0.0.1:{layout.rest_port(i)}
etcd3:
  hosts: 127.0.0.1:{layout.at("etcd")}
log:
  level: WARNING
bootstrap:
  dcs:
    # A dead primary's key expires after ttl; each node looks every loop_wait seconds.
    ttl: 20
    loop_wait: 2
    retry_timeout: 5
    maximum_lag_on_failover: 1048576
    # A crashed primary fails over at once instead of restarting in place.
    primary_start_timeout: 0
    # A commit returns once the synchronous standby has it: no confirmed sale is lost.
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        max_connections: 200
        timezone: UTC
        shared_buffers: 64MB
  initdb:
    - encoding: UTF8
    - data-checksums
postgresql:
  listen: 127.0.0.1:{layout.pg_port(i)}
  connect_address: 127.0.0.1:{layout.pg_port(i)}
  data_dir: {node_dir / "data"}
  bin_dir: {PG_BIN}
  pgpass: {node_dir / "pgpass"}
  authentication:
    superuser:
      username: postgres
    replication:
      username: postgres
    rewind:
      username: postgres
  parameters:
    unix_socket_directories: {node_dir}
  # Loopback only, and trusted: this is one machine's rehearsal (docs/deployment.md).
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication all 127.0.0.1/32 trust
"""


def start_node(layout: Layout, i: int, programs, user: str | None) -> int:
    node_dir = layout.root / NODES[i]
    give(node_dir, user)
    config = node_dir / "patroni.yml"
    config.write_text(patroni_yml(layout, i))
    log = node_dir / "patroni.log"
    log.touch()
    if user is not None:
        entry = pwd.getpwnam(user)
        for path in (config, log):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    env = {"PATH": f"{PG_BIN}:/usr/bin:/bin", "HOME": str(node_dir), "LANG": "C.UTF-8"}
    return spawn([programs["patroni"], str(config)], log, env=env, user=user)


def patroni_url(layout: Layout, i: int) -> str:
    return f"http://127.0.0.1:{layout.rest_port(i)}"


def leader_index(layout: Layout) -> int | None:
    for i in range(len(NODES)):
        if http_status(patroni_url(layout, i) + "/primary") == 200:
            return i
    return None


def synchronous_standby(layout: Layout) -> str | None:
    """The name of the synchronous standby, if one is streaming."""
    for i in range(len(NODES)):
        try:
            members = http_json(patroni_url(layout, i) + "/cluster")["members"]
        except (OSError, ValueError, KeyError):
            continue
        for member in members:
            if member.get("role") == "sync_standby" and member.get("state") in ("streaming", "running"):
                return member["name"]
    return None


def haproxy_cfg(layout: Layout) -> str:
    servers = "\n".join(
        f"    server {name} 127.0.0.1:{layout.pg_port(i)} check port {layout.rest_port(i)}"
        for i, name in enumerate(NODES)
    )
    return f"""# HAProxy of `make cluster` (ticketing/cluster.py writes it): PostgreSQL's port goes to
# the node whose Patroni says it is the primary (GET /primary answers 200 only there).
global
    maxconn 2000
    log stderr format short local0 warning

defaults
    mode tcp
    log global
    timeout connect 3s
    timeout client 30m
    timeout server 30m
    timeout check 2s

listen primary
    bind 127.0.0.1:{layout.at("haproxy")}
    option httpchk GET /primary
    http-check expect status 200
    # Checked every second; down after 2 failures, up after 1 success. A node marked down
    # has its sessions cut, so PgBouncer reconnects (to the new primary) at once.
    default-server inter 1s fastinter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
{servers}
"""


def start_haproxy(layout: Layout, programs) -> int:
    folder = layout.root / "haproxy"
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "haproxy.cfg"
    config.write_text(haproxy_cfg(layout))
    pid = spawn([programs["haproxy"], "-db", "-f", str(config)], folder / "haproxy.log")
    wait_for(lambda: port_answers(layout.at("haproxy")), "haproxy", [pid])
    return pid


def pgbouncer_files(layout: Layout, user: str | None) -> tuple[Path, str | None]:
    folder = layout.root / "pgbouncer"
    ini = pooler.pgbouncer_ini(
        run_dir=folder,
        listen_port=layout.at("pgbouncer"),
        server_host="127.0.0.1",
        server_port=layout.at("haproxy"),
        pool_size=layout.pool_size,
        users=[APP_LOGIN, "postgres"],
    )
    pooler.chown_for(folder, user)
    return ini, user


def start_pgbouncer(layout: Layout, program: str, user: str | None) -> int:
    """PgBouncer on its port (also how the tests restart it under load)."""
    ini, run_as = pgbouncer_files(layout, user)
    pid = spawn(pooler.pgbouncer_command(program, ini, run_as), layout.root / "pgbouncer" / "stderr.log")
    wait_for(lambda: port_answers(layout.at("pgbouncer")), "pgbouncer", [pid])
    return pid


def app_env(layout: Layout) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": layout.pgbouncer_dsn,
            "DB_POOLER": "transaction",
            "DEV_DATA_DIR": str(layout.root),
            "WEB_CONCURRENCY": env.get("WEB_CONCURRENCY") or "2",
            "GUNICORN_POOL": "app",
        }
    )
    env.pop("MIGRATION_DATABASE_URL", None)
    return env


class ClusterDoor(frontdoor.FrontDoor):
    """The front door's nginx configuration with every app instance in both upstreams."""

    def __init__(self, env, nginx, sockets: list[Path]):
        super().__init__(env, nginx)
        self.sockets = sockets

    def nginx_values(self) -> dict[str, str]:
        values = super().nginx_values()
        more = self.run_dir / "nginx" / "upstreams"
        more.mkdir(parents=True, exist_ok=True)
        for pool, limit in (("app", "APP_MAX_CONNS"), ("auth", "AUTH_MAX_CONNS")):
            path = more / f"{pool}.conf"
            path.write_text(
                "".join(
                    f"server unix:{socket} max_conns={self.settings[limit]};\n" for socket in self.sockets[1:]
                )
            )
            values[f"{pool.upper()}_UPSTREAM"] = f"unix:{self.sockets[0]}"
            values[f"{pool.upper()}_UPSTREAM_MORE"] = str(path)
        values["APP_SERVER_MAX_CONNS"] = self.settings["APP_MAX_CONNS"]  # each instance's
        return values


def start_apps(layout: Layout) -> list[dict]:
    run_dir = layout.root / "apps"
    run_dir.mkdir(parents=True, exist_ok=True)
    apps = []
    for n in range(1, layout.apps + 1):
        name = f"app-{n}"
        socket_path = run_dir / f"{name}.sock"
        socket_path.unlink(missing_ok=True)
        env = {
            **app_env(layout),
            "GUNICORN_BIND": f"unix:{socket_path}",
            # each instance its own metrics listener and files (docs/operations.md)
            "METRICS_PORT": str(layout.port + METRICS_OFFSET + n),
            "PROMETHEUS_MULTIPROC_DIR": str(layout.root / "metrics" / name),
        }
        pid = spawn(frontdoor.GUNICORN, run_dir / f"{name}.log", env=env)
        apps.append({"name": name, "pid": pid, "socket": str(socket_path)})
        # One after the other: the admin bootstrap (gunicorn.conf.py) runs once at a time.
        wait_for(
            lambda p=socket_path: frontdoor.http_status_over(frontdoor._unix(p)) == 200,
            name,
            [pid],
        )
    return apps


def start_nginx(layout: Layout, nginx: str, apps: list[dict]) -> int:
    env = {**app_env(layout), "PORT": str(layout.port), "HOST": "127.0.0.1"}
    try:
        door = ClusterDoor(env, nginx, [Path(app["socket"]) for app in apps])
        conf = door.prepare()
    except frontdoor.FrontDoorError as exc:
        raise SystemExit(f"cluster: nginx: {str(exc).replace('PORT=', 'CLUSTER_PORT=')}") from None
    command = [nginx, "-p", str(door.run_dir), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"]
    pid = spawn(command, door.run_dir / "nginx.log", env=env)
    wait_for(lambda: http_status(f"{layout.api_url}/readyz") == 200, "nginx", [pid])
    return pid


# --- the whole -------------------------------------------------------------------------


def read_state(layout: Layout) -> dict | None:
    try:
        return json.loads(layout.state_file.read_text())
    except (OSError, ValueError):
        return None


def every_pid(state: dict) -> list[int]:
    pids = [state.get(key) for key in ("nginx", "pgbouncer", "haproxy", "etcd")]
    pids += [app["pid"] for app in state.get("apps", [])]
    pids += state.get("patroni", [])
    return [pid for pid in pids if pid]


def running(layout: Layout) -> bool:
    state = read_state(layout)
    if not state or not all(alive(pid) for pid in every_pid(state)):
        return False
    return http_status(f"{layout.api_url}/readyz") == 200


def info(layout: Layout, state: dict) -> dict:
    """cluster.json, as issue 14 specifies it."""
    return {
        "api_url": layout.api_url,
        "pgbouncer_dsn": layout.pgbouncer_dsn,
        "pgbouncer_pid": state["pgbouncer"],
        "apps": [{"name": app["name"], "pid": app["pid"]} for app in state["apps"]],
        "nodes": [
            {"name": name, "patroni_url": patroni_url(layout, i), "dsn": layout.node_dsn(i)}
            for i, name in enumerate(NODES)
        ],
    }


def write_json(path: Path, value) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value, indent=2) + "\n")
    tmp.replace(path)


def ensure_programs() -> dict[str, str]:
    try:
        programs = pooler.ensure_packages(PACKAGES, say=say)
        if not (PG_BIN / "postgres").exists():
            pooler.ensure_packages({str(PG_BIN / "postgres"): PG_PACKAGE}, say=say)
    except RuntimeError as exc:
        raise SystemExit(f"cluster: {exc}") from None
    return programs


def up(env=None) -> dict:
    env = dict(os.environ if env is None else env)
    layout = Layout.from_env(env)
    if running(layout):
        say(f"already running ({layout.info_file})")
        return json.loads(layout.info_file.read_text())
    down(env, quiet=True)  # leftovers of a cluster that was partly killed
    try:
        return _start(layout)
    except BaseException:
        say(f"start failed: stopping what started (logs stay in {layout.root})")
        down(env, quiet=True)
        for pid in reversed(SPAWNED):  # what started but was not recorded yet
            stop_pid(pid, timeout=10)
        raise


def _start(layout: Layout) -> dict:
    programs = ensure_programs()
    user = server_user()
    layout.root.mkdir(parents=True, exist_ok=True)
    layout.root.chmod(0o755)  # the servers' user must reach its folders
    state: dict = {"port": layout.port}

    def save():
        write_json(layout.state_file, state)

    say("starting etcd")
    state["etcd"] = start_etcd(layout, programs)
    save()
    say("starting PostgreSQL 15 under Patroni: a leader and its synchronous standby")
    # Both at once: after a stop, either may be the one whose timeline is newest.
    state["patroni"] = [start_node(layout, i, programs, user) for i in range(len(NODES))]
    save()
    wait_for(lambda: leader_index(layout) is not None, "the Patroni leader", state["patroni"])
    wait_for(lambda: synchronous_standby(layout) is not None, "the synchronous standby", state["patroni"])
    say("migrating the leader")
    migrate_leader(layout)
    say("starting HAProxy and PgBouncer")
    state["haproxy"] = start_haproxy(layout, programs)
    save()
    state["pgbouncer"] = start_pgbouncer(layout, programs["pgbouncer"], user)
    save()
    say(f"starting {layout.apps} app instances and nginx")
    state["apps"] = []
    for app in start_apps(layout):
        state["apps"].append(app)
        save()
    state["nginx"] = start_nginx(layout, programs["nginx"], state["apps"])
    save()
    cluster = info(layout, state)
    write_json(layout.info_file, cluster)
    return cluster


def migrate_leader(layout: Layout) -> None:
    leader = leader_index(layout)
    if leader is None:
        raise SystemExit("cluster: no leader to migrate")
    owner = layout.node_dsn(leader)
    devdb.migrate(owner + "?sslmode=disable", dump_schema=False)  # dbmate asks for TLS otherwise
    devdb.ensure_app_login(owner)


def down(env=None, quiet: bool = False) -> None:
    env = dict(os.environ if env is None else env)
    layout = Layout.from_env(env)
    state = read_state(layout)
    if state is None:
        if not quiet:
            say("nothing to stop")
        return
    if not quiet:
        say("stopping")
    stop_pid(state.get("nginx"), signal.SIGQUIT)
    for app in state.get("apps", []):
        stop_pid(app["pid"])
    for key in ("pgbouncer", "haproxy"):
        stop_pid(state.get(key))
    # The standby first, then the leader: stopping the leader first would fail over.
    patroni = list(state.get("patroni", []))
    leader = leader_index(layout)
    if leader is not None and leader < len(patroni):
        patroni.append(patroni.pop(leader))
    for pid in patroni:
        stop_pid(pid, timeout=30)  # Patroni stops its PostgreSQL first
    for name in NODES:  # a PostgreSQL whose Patroni was killed
        pidfile = layout.root / name / "data" / "postmaster.pid"
        try:
            stop_pid(int(pidfile.read_text().split()[0]), signal.SIGINT)
        except (OSError, ValueError, IndexError):
            pass
    stop_pid(state.get("etcd"))
    for folder in ("apps",):
        shutil.rmtree(layout.root / folder, ignore_errors=True)
    layout.state_file.unlink(missing_ok=True)
    layout.info_file.unlink(missing_ok=True)


def restart_pgbouncer(env=None) -> int:
    """Stop PgBouncer (SIGTERM: at once, its clients' connections cut) and start it again on
    the same port; its new pid, also in cluster.json."""
    env = dict(os.environ if env is None else env)
    layout = Layout.from_env(env)
    state = read_state(layout)
    if state is None:
        raise SystemExit("cluster: not running")
    stop_pid(state.get("pgbouncer"))
    program = pooler.ensure_packages({"pgbouncer": "pgbouncer"})["pgbouncer"]
    state["pgbouncer"] = start_pgbouncer(layout, program, server_user())
    write_json(layout.state_file, state)
    write_json(layout.info_file, info(layout, state))
    return state["pgbouncer"]


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    action = argv[0] if argv else "up"
    if action == "up":
        cluster = up()
        print(cluster["api_url"], flush=True)
    elif action == "down":
        down()
    elif action == "restart-pgbouncer":
        print(restart_pgbouncer(), flush=True)
    elif action == "status":
        layout = Layout.from_env(os.environ)
        if not running(layout):
            print("not running")
            return 1
        print(layout.info_file.read_text(), end="")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
