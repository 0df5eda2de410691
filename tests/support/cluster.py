"""`make cluster` as the failure tests run it: the very command, on free ports, in a
folder of its own; buyers that retry like a well-behaved client; the checks of a sale
that survived (every confirmed order on the leader, the books balanced)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psycopg2
import requests

from tests.support import ROOT
from tests.support.books import INVARIANT
from tests.support.samples import EVENT, JWT_SECRET, TICKET_SIGNING_KEY, WEBHOOK_SECRET
from tests.support.timeouts import REQUEST_TIMEOUT
from ticketing import cluster as topology
from ticketing import frontdoor, security

# make cluster from nothing: packages (first time), initdb, a base backup, migrations.
CLUSTER_START_TIMEOUT = 600
# The promise: the API recovers by itself within this long after the leader dies.
RECOVERY_SECONDS = 30
FINAL = (201, 409)
TRANSIENT = (502, 503)


def free_port_block(size: int) -> int:
    """A port p with p .. p+size-1 all free on loopback."""
    for _ in range(100):
        base = random.randrange(20000, 60000 - size)
        if all(frontdoor.port_is_free("127.0.0.1", base + i) for i in range(size)):
            return base
    raise RuntimeError("no free block of ports")


class Cluster:
    """A running `make cluster`: `info` is its cluster.json."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.layout = topology.Layout.from_env(env)
        self.info = self.read_info()

    def read_info(self) -> dict:
        return json.loads(self.layout.info_file.read_text())

    @property
    def api(self) -> str:
        return self.info["api_url"] + "/api/v1"

    def make(self, target: str) -> None:
        subprocess.run(
            ["make", "-s", "--no-print-directory", target],
            cwd=ROOT,
            env=self.env,
            check=True,
            timeout=CLUSTER_START_TIMEOUT,
            stdout=subprocess.DEVNULL,
        )

    def leader(self) -> dict | None:
        for node in self.info["nodes"]:
            if topology.http_status(node["patroni_url"] + "/primary") == 200:
                return node
        return None

    def postmaster_pid(self, node: dict) -> int:
        return int((self.layout.root / node["name"] / "data" / "postmaster.pid").read_text().split()[0])

    def wait_healthy(self, timeout: float = 180) -> None:
        """A leader, a streaming synchronous standby and a ready API (as after make cluster)."""
        deadline = time.monotonic() + timeout
        while True:
            ok = (
                self.leader() is not None
                and topology.synchronous_standby(self.layout) is not None
                and topology.http_status(self.info["api_url"] + "/readyz") == 200
            )
            if ok:
                return
            assert time.monotonic() < deadline, f"the cluster is not healthy again after {timeout} s"
            time.sleep(0.5)

    def query(self, statement: str, params=None, node: dict | None = None) -> list[dict]:
        """Rows from the leader (or `node`), as its superuser."""
        node = node or self.leader()
        assert node is not None, "no leader"
        conn = psycopg2.connect(node["dsn"], connect_timeout=5)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(statement, params)
                if cur.description is None:
                    return []
                names = [c.name for c in cur.description]
                return [dict(zip(names, row)) for row in cur.fetchall()]
        finally:
            conn.close()

    def users(self, count: int, role: str = "user") -> list[dict]:
        rows = self.query(
            "INSERT INTO users (name, email, password_hash, role)"
            " SELECT 'Buyer ' || n, 'cluster-' || %s || '-' || n || '@example.com', 'x', %s"
            " FROM generate_series(1, %s) AS n RETURNING id",
            (os.urandom(6).hex(), role, count),
        )
        return [
            {
                "id": str(row["id"]),
                "headers": {
                    "Authorization": "Bearer " + security.issue_token(str(row["id"]), role, JWT_SECRET, 3600)
                },
            }
            for row in rows
        ]

    def event(self, capacity: int) -> str:
        (admin,) = self.users(1, role="admin")
        answer = requests.post(
            self.api + "/events",
            json={**EVENT, "capacity": capacity},
            headers=admin["headers"],
            timeout=REQUEST_TIMEOUT,
        )
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def kill_app(self, index: int) -> None:
        """The whole instance at once (master and workers), as when its machine dies."""
        os.killpg(self.info["apps"][index]["pid"], signal.SIGKILL)

    def restart_pgbouncer(self) -> None:
        topology.restart_pgbouncer(self.env)
        self.info = self.read_info()


def start_cluster() -> Cluster:
    # The servers run as `postgres` when we are root: their folder must be reachable.
    folder = Path(tempfile.mkdtemp(prefix="ticketing-cluster-"))
    folder.chmod(0o755)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "MIGRATION_DATABASE_URL", "TEST_DATABASE_URL")
    }
    env.update(
        {
            "DEV_DATA_DIR": str(folder),
            "CLUSTER_PORT": str(free_port_block(16)),
            "CLUSTER_APPS": "2",
            "WEB_CONCURRENCY": "2",
            "CLUSTER_POOL_SIZE": "4",
            "JWT_SECRET": JWT_SECRET,
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "TICKET_SIGNING_KEY": TICKET_SIGNING_KEY,
            "BCRYPT_ROUNDS": "4",
            "RATE_LIMITS": "off",
            "WEBHOOK_DELIVERY_MS": "0",
        }
    )
    cluster = None
    try:
        subprocess.run(
            ["make", "-s", "--no-print-directory", "cluster"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=CLUSTER_START_TIMEOUT,
            stdout=subprocess.DEVNULL,
        )
        cluster = Cluster(env)
    finally:
        if cluster is None:
            subprocess.run(["make", "-s", "cluster-stop"], cwd=ROOT, env=env, timeout=CLUSTER_START_TIMEOUT)
    return cluster


class Rush:
    """Buyers of one ticket each, `threads` at a time, each retrying with its own
    Idempotency-Key on 502/503 (after Retry-After, capped at 1 s) until a 201 or 409.
    `answers` is every (time, status, has Retry-After) seen, `sent` every (sent, answered,
    status); `outcomes` each buyer's end."""

    def __init__(self, cluster: Cluster, event_id: str, buyers: list[dict], threads: int):
        self.cluster = cluster
        self.event_id = event_id
        self.buyers = buyers
        self.threads = threads
        self.answers: list[tuple[float, int | None, bool]] = []
        self.sent: list[tuple[float, float, int | None]] = []  # (sent, answered, status)
        self.outcomes: dict[str, tuple[int, dict]] = {}
        self.lock = threading.Lock()
        self.started = time.monotonic()

    def sold(self) -> int:
        with self.lock:
            return sum(1 for status, _ in self.outcomes.values() if status == 201)

    def _buy(self, session: requests.Session, buyer: dict) -> None:
        headers = {**buyer["headers"], "Idempotency-Key": f"cluster-{buyer['id']}"}
        deadline = time.monotonic() + 4 * RECOVERY_SECONDS
        while True:
            sent = time.monotonic()
            try:
                answer = session.post(
                    self.cluster.api + "/orders",
                    json={"event_id": self.event_id, "quantity": 1},
                    headers=headers,
                    timeout=REQUEST_TIMEOUT,
                )
                status, retry_after = answer.status_code, answer.headers.get("Retry-After")
            except requests.RequestException:
                status, retry_after = None, None
            with self.lock:
                self.answers.append((time.monotonic(), status, retry_after is not None))
                self.sent.append((sent, time.monotonic(), status))
            if status in FINAL:
                with self.lock:
                    self.outcomes[buyer["id"]] = (status, answer.json())
                return
            if status not in TRANSIENT or time.monotonic() > deadline:
                with self.lock:
                    self.outcomes[buyer["id"]] = (status, {})
                return
            time.sleep(min(float(retry_after or 1), 1.0))

    def _worker(self, queue: list[dict]) -> None:
        with requests.Session() as session:
            while True:
                with self.lock:
                    if not queue:
                        return
                    buyer = queue.pop()
                self._buy(session, buyer)

    def start(self) -> list[threading.Thread]:
        queue = list(self.buyers)
        threads = [
            threading.Thread(target=self._worker, args=(queue,), daemon=True) for _ in range(self.threads)
        ]
        for thread in threads:
            thread.start()
        return threads

    def run(self, when_sold: int, action) -> float:
        """The rush; `action()` once `when_sold` buyers have their order. The action's time."""
        threads = self.start()
        deadline = time.monotonic() + 120
        while self.sold() < when_sold:
            assert time.monotonic() < deadline, "the rush never reached the failure point"
            assert any(t.is_alive() for t in threads), "the rush ended before the failure point"
            time.sleep(0.05)
        at = time.monotonic()
        action()
        for thread in threads:
            thread.join(8 * RECOVERY_SECONDS)
        assert not any(t.is_alive() for t in threads), "buyers still running"
        return at

    def summary(self) -> str:
        """How many answers of each status (printed with -s: what the failure looked like)."""
        counts = {}
        for _, status, _ in self.answers:
            counts[status] = counts.get(status, 0) + 1
        return ", ".join(f"{status}: {n}" for status, n in sorted(counts.items(), key=str))

    def statuses(self) -> set:
        return {status for _, status, _ in self.answers}


def assert_sale_survived(cluster: Cluster, rush: Rush, capacity: int) -> None:
    """Every buyer: one order (201) or sold out (409); every 201's order on the leader with
    its ticket; nobody with two orders; no oversell; the books balance."""
    assert len(rush.outcomes) == len(rush.buyers)
    finals = {status for status, _ in rush.outcomes.values()}
    assert finals <= set(FINAL), finals
    confirmed = {body["id"] for status, body in rush.outcomes.values() if status == 201}
    rows = cluster.query(
        "SELECT o.id::text, o.user_id::text, o.quantity, count(t.id) AS tickets"
        " FROM orders o LEFT JOIN tickets t ON t.order_id = o.id"
        " WHERE o.event_id = %s GROUP BY o.id",
        (rush.event_id,),
    )
    by_id = {row["id"]: row for row in rows}
    assert confirmed <= set(by_id), f"confirmed orders missing on the leader: {confirmed - set(by_id)}"
    assert all(row["tickets"] == row["quantity"] == 1 for row in rows)
    per_buyer = {}
    for row in rows:
        per_buyer[row["user_id"]] = per_buyer.get(row["user_id"], 0) + 1
    assert max(per_buyer.values(), default=0) == 1, "a buyer has two orders"
    for buyer_id, (status, body) in rush.outcomes.items():
        assert (status == 201) == (buyer_id in per_buyer), (buyer_id, status)
        if status == 409:
            assert body["type"] == "/problems/sold-out", body
    assert len(rows) <= capacity
    remaining = cluster.query("SELECT remaining FROM events WHERE id = %s", (rush.event_id,))[0]["remaining"]
    assert remaining == capacity - len(rows)
    assert cluster.query(INVARIANT) == []
