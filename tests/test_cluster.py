"""Failure, on purpose, through `make cluster`'s topology (issue 14): nginx in front of two
app instances, PgBouncer (transaction pooling), HAProxy, two PostgreSQL 15 under Patroni
with etcd, synchronous replication. One cluster for the module; each test leaves it
healthy (or, the last one, with an instance down) for the next.

Buyers retry on 502/503 with their Idempotency-Key, as a good client does."""

from __future__ import annotations

import os
import shutil
import signal
import time

import pytest

from tests.support.cluster import RECOVERY_SECONDS, TRANSIENT, Rush, assert_sale_survived, start_cluster
from ticketing import cluster as topology


@pytest.fixture(scope="module")
def cluster():
    running = start_cluster()
    yield running
    running.make("cluster-stop")
    shutil.rmtree(running.layout.root.parent, ignore_errors=True)


def test_make_cluster_describes_itself_and_is_harmless_twice(cluster):
    info = cluster.info
    assert set(info) == {"api_url", "pgbouncer_dsn", "pgbouncer_pid", "apps", "nodes"}
    assert [app["name"] for app in info["apps"]] == ["app-1", "app-2"]
    assert all(topology.alive(app["pid"]) for app in info["apps"]) and topology.alive(info["pgbouncer_pid"])
    assert [node["name"] for node in info["nodes"]] == ["pg1", "pg2"]
    leader = cluster.leader()
    assert leader is not None
    assert cluster.query("SHOW synchronous_commit")[0]["synchronous_commit"] == "on"
    standby = [node for node in info["nodes"] if node is not leader][0]
    assert cluster.query("SELECT pg_is_in_recovery() AS r", node=standby) == [{"r": True}]
    assert topology.synchronous_standby(cluster.layout) == standby["name"]
    cluster.make("cluster")  # running: nothing restarts
    assert cluster.read_info() == info


def test_the_sale_survives_losing_the_leader(cluster):
    """kill -9 of the leader's postmaster mid-rush: only 201/409/502/503 (503 with
    Retry-After), sales again within 30 s with nothing restarted by hand, every confirmed
    order on the new leader, the books balanced."""
    capacity = 60
    rush = Rush(cluster, cluster.event(capacity), cluster.users(90), threads=12)
    old = cluster.leader()
    killed = {}

    def kill_leader():
        killed["at"] = time.monotonic()
        os.kill(cluster.postmaster_pid(old), signal.SIGKILL)

    rush.run(when_sold=10, action=kill_leader)
    assert rush.statuses() <= {201, 409, *TRANSIENT}, rush.statuses()
    assert all(has_retry_after for _, status, has_retry_after in rush.answers if status == 503)
    # Recovery: the first sale asked for after the kill, answered within the promise.
    after = sorted(answered for sent, answered, status in rush.sent if sent > killed["at"] and status == 201)
    assert after, "no sale after the leader died"
    print(f"leader lost: first new sale {after[0] - killed['at']:.1f} s after the kill;", rush.summary())
    assert after[0] - killed["at"] < RECOVERY_SECONDS
    new = cluster.leader()
    assert new is not None and new["name"] != old["name"], "no failover"
    assert_sale_survived(cluster, rush, capacity)
    cluster.wait_healthy()  # the old leader is back, as a standby, by itself


def test_the_sale_survives_a_pgbouncer_restart(cluster):
    capacity = 30
    rush = Rush(cluster, cluster.event(capacity), cluster.users(45), threads=8)
    rush.run(when_sold=5, action=cluster.restart_pgbouncer)
    print("pgbouncer restarted:", rush.summary())
    assert rush.statuses() <= {201, 409, *TRANSIENT}, rush.statuses()
    assert all(has_retry_after for _, status, has_retry_after in rush.answers if status == 503)
    assert_sale_survived(cluster, rush, capacity)


def test_nginx_routes_around_a_dead_app_instance(cluster):
    """Last: it leaves app-1 dead."""
    capacity = 30
    rush = Rush(cluster, cluster.event(capacity), cluster.users(45), threads=8)
    rush.run(when_sold=5, action=lambda: cluster.kill_app(0))
    print("app-1 killed:", rush.summary())
    assert rush.statuses() <= {201, 409, *TRANSIENT}, rush.statuses()
    assert_sale_survived(cluster, rush, capacity)
    assert not topology.alive(cluster.info["apps"][0]["pid"])
