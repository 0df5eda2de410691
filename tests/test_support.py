"""The shared test helpers (tests/support) do what the tests rely on them for."""

import socket
import threading

import pytest
import requests

from tests.support import concurrency, timeouts
from tests.support.concurrency import run_together
from tests.support.servers import free_ports, start_gunicorn
from tests.support.timeouts import wait_until


def test_run_together_runs_every_action_at_once_and_keeps_their_order():
    inside = threading.Barrier(3, timeout=10)  # breaks unless all three run at the same time

    def action(i):
        inside.wait()
        return i, threading.get_ident()

    results = run_together([lambda i=i: action(i) for i in range(3)])
    assert [i for i, _ in results] == [0, 1, 2]
    assert len({thread for _, thread in results}) == 3


def test_run_together_raises_what_an_action_raised():
    def broken():
        raise LookupError("from a worker thread")

    with pytest.raises(LookupError, match="from a worker thread"):
        run_together([lambda: 1, broken])


def test_run_together_fails_when_a_thread_hangs(monkeypatch):
    monkeypatch.setattr(concurrency, "WAIT_TIMEOUT", 0.5)
    release = threading.Event()
    try:
        with pytest.raises(AssertionError, match="1 of 2 threads still running"):
            run_together([lambda: 1, lambda: release.wait(30)])
    finally:
        release.set()


def test_wait_until_fails_with_its_message(monkeypatch):
    monkeypatch.setattr(timeouts, "WAIT_TIMEOUT", 0.3)
    calls = []
    with pytest.raises(AssertionError, match="never happened"):
        wait_until(lambda: calls.append(1), "never happened", interval=0.05)
    assert len(calls) > 1
    wait_until(lambda: True, "true at once")


def test_free_ports_are_distinct_and_free():
    ports = free_ports(5)
    assert len(set(ports)) == 5
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


def test_a_started_gunicorn_serves_logs_and_stops(gunicorn):
    server = gunicorn(WEB_CONCURRENCY="1")
    assert server.get("/healthz").json() == {"status": "ok"}
    assert server.log_path.is_file()
    server.stop()
    assert server.process.returncode is not None
    with pytest.raises(requests.ConnectionError):
        server.get("/healthz")


def test_a_gunicorn_that_cannot_start_is_reported_with_its_log(database_url, tmp_path):
    with pytest.raises(RuntimeError, match="gunicorn did not start") as failed:
        start_gunicorn(database_url, tmp_path, APP_ENV="production", JWT_SECRET="too-short")
    assert str(tmp_path / "gunicorn.log") in str(failed.value)
    assert "configuration error:" in (tmp_path / "gunicorn.log").read_text()
