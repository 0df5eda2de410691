"""The front door under an on-sale's traffic (issue 9, parts 2 and 3), through the real
nginx with the repository's configuration: slow clients, the bcrypt bulkhead, overload
answered with 503 + Retry-After, and nginx's rate limits."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import statistics
import threading
import time
import uuid
from functools import partial

import requests

from tests.support.concurrency import run_together
from tests.support.frontdoor import Connection
from tests.support.timeouts import WAIT_TIMEOUT

PROBLEM = "application/problem+json"
ORDERS = "/api/v1/orders"


def _purchase(server, headers, event_id, session=None):
    started = time.perf_counter()
    answer = server.post(ORDERS, json={"event_id": event_id, "quantity": 1}, headers=headers, session=session)
    return answer, time.perf_counter() - started


def _assert_limited(answer, retry_after: str):
    assert answer.status_code == 429, answer.text
    assert answer.headers["Content-Type"] == PROBLEM
    assert answer.headers["Retry-After"] == retry_after
    assert answer.json()["type"] == "/problems/rate-limited"


# --- slow clients --------------------------------------------------------------------------


def test_a_thousand_trickling_clients_cost_purchases_nothing(front_door, make_event, buyer):
    server = front_door()
    event = make_event(capacity=1000)
    stalled = []
    try:
        for i in range(1000):
            conn = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            if i % 2:  # half a header, then nothing
                conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            else:  # a whole header, and a body that never comes
                conn.sendall(
                    b"POST /api/v1/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 1000\r\n\r\n{"
                )
            stalled.append(conn)
        stop = threading.Event()

        def trickle():  # one more byte on each of them now and then, as a bad network does
            while not stop.wait(0.5):
                for conn in stalled[::7]:
                    try:
                        conn.send(b"a")
                    except OSError:
                        pass

        trickler = threading.Thread(target=trickle, daemon=True)
        trickler.start()
        try:
            with requests.Session() as session:
                timings = []
                for _ in range(5):
                    started = time.perf_counter()
                    assert server.get("/healthz", session=session).status_code == 200
                    timings.append(time.perf_counter() - started)
                    answer, seconds = _purchase(server, buyer["headers"], event["id"], session)
                    assert answer.status_code == 201, answer.text
                    timings.append(seconds)
        finally:
            stop.set()
            trickler.join(WAIT_TIMEOUT)
        print(f"trickling: healthz and purchases max {max(timings) * 1000:.0f} ms")
        assert max(timings) < 1.0, timings
    finally:
        for conn in stalled:
            conn.close()


# --- the bcrypt bulkhead -------------------------------------------------------------------


def test_sixty_logins_at_bcrypt_cost_12_leave_purchases_fast(front_door, make_event, buyer):
    server = front_door(BCRYPT_ROUNDS="12", RATE_LIMITS="off")
    event = make_event(capacity=10_000)
    logins: list[tuple[int, str | None, float]] = []
    purchases: list[float] = []
    done = threading.Event()

    def login(i):
        started = time.perf_counter()
        body = {"email": f"nobody-{i}-{uuid.uuid4().hex[:6]}@example.com", "password": "wrong password"}
        answer = server.post("/api/v1/login", json=body)
        logins.append((answer.status_code, answer.headers.get("Retry-After"), time.perf_counter() - started))

    def buy():
        with requests.Session() as session:
            while not done.is_set():
                answer, seconds = _purchase(server, buyer["headers"], event["id"], session)
                assert answer.status_code == 201, answer.text
                purchases.append(seconds)
                time.sleep(0.05)

    buyer_thread = threading.Thread(target=buy, daemon=True)
    buyer_thread.start()
    time.sleep(0.3)
    threads = [threading.Thread(target=login, args=(i,), daemon=True) for i in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_TIMEOUT)
    done.set()
    buyer_thread.join(WAIT_TIMEOUT)

    print(
        f"bulkhead: logins {sum(1 for entry in logins if entry[0] == 401)} served, {sum(1 for entry in logins if entry[0] == 503)} refused, "
        f"slowest {max(entry[2] for entry in logins):.2f} s; purchases {len(purchases)}, "
        f"median {statistics.median(purchases) * 1000:.0f} ms, max {max(purchases) * 1000:.0f} ms"
    )
    assert len(logins) == 60, "a login hung"
    statuses = {status for status, _, _ in logins}
    assert statuses <= {401, 503}, statuses
    assert 401 in statuses  # the pool served some...
    refused = [entry for entry in logins if entry[0] == 503]
    assert refused and all(retry_after for _, retry_after, _ in refused)  # ...and turned the rest away
    assert max(seconds for status, _, seconds in refused) < 2.0  # at once, not after a wait
    assert len(purchases) >= 5
    assert max(purchases) < 1.0 and statistics.median(purchases) < 0.2, purchases


# --- overload: the 3,000-buyer rush --------------------------------------------------------


async def _rush(port: int, headers: list[dict], event_id: str) -> tuple[list, list, list]:
    """Each buyer on its own keep-alive connection, all released at once; a 503 waits its
    Retry-After, up to twice as long (jitter, as well-behaved clients do), and tries again."""
    body = json.dumps({"event_id": event_id, "quantity": 1}).encode()
    go = asyncio.Event()
    outcomes, latencies, errors = [], [], []

    async def buyer(auth):
        conn = Connection("127.0.0.1", port)
        try:
            await conn.open()
            await go.wait()
            while True:
                answer = await conn.request(
                    "POST", ORDERS, {**auth, "Content-Type": "application/json"}, body
                )
                latencies.append((answer.seconds, answer.status))
                if answer.status == 503:
                    outcomes.append(503)
                    await asyncio.sleep(int(answer.headers["retry-after"]) * (1 + random.random()))
                    continue
                outcomes.append((answer.status, answer.json().get("type")))
                return
        except Exception as exc:  # every one is a failure of the test, reported below
            errors.append(repr(exc))
        finally:
            await conn.close()

    tasks = [asyncio.create_task(buyer(auth)) for auth in headers]
    await asyncio.sleep(1)
    go.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 10 * WAIT_TIMEOUT)
    return outcomes, latencies, errors


def test_a_rush_of_3000_buyers_on_1000_tickets_sells_exactly_out(front_door, make_event, users, sql):
    server = front_door(RATE_LIMITS="off")
    event = make_event(capacity=1000)
    headers = users.many_headers(3000)

    outcomes, latencies, errors = asyncio.run(_rush(server.port, headers, event["id"]))

    assert errors == []
    finals = [o for o in outcomes if o != 503]
    assert len(finals) == 3000
    sold = sum(1 for status, _ in finals if status == 201)
    assert sold == 1000
    assert all(o == (409, "/problems/sold-out") for o in finals if o[0] != 201), set(finals)
    assert set(o if o == 503 else o[0] for o in outcomes) <= {201, 409, 503}
    assert sql.value("SELECT count(*) FROM tickets WHERE event_id = %s", (event["id"],)) == 1000
    for status in (201, 409, 503):
        some = sorted(seconds for seconds, s in latencies if s == status)
        print(
            f"rush {status}: {len(some)}, p50 {some[len(some) // 2]:.3f} s, p99 {some[int(len(some) * 0.99)]:.3f} s, max {some[-1]:.3f}"
        )
    every = sorted(seconds for seconds, _ in latencies)
    p99 = every[int(len(every) * 0.99)]
    assert p99 < 2.0


# --- rate limits ---------------------------------------------------------------------------


def test_logins_and_signups_are_rate_limited_per_client_ip(front_door):
    server = front_door(
        RATE_LIMIT_LOGIN_PER_MINUTE="1",
        RATE_LIMIT_LOGIN_BURST="2",
        RATE_LIMIT_SIGNUP_PER_MINUTE="2",
        RATE_LIMIT_SIGNUP_BURST="1",
    )
    logins = [
        server.post("/api/v1/login", json={"email": f"x{i}@example.com", "password": "nope"})
        for i in range(4)
    ]
    assert [r.status_code for r in logins[:3]] == [401, 401, 401]  # the rate's one + a burst of 2
    _assert_limited(logins[3], "60")

    signups = [
        server.post(
            "/api/v1/signup",
            json={
                "name": "A",
                "email": f"s{i}-{uuid.uuid4().hex[:6]}@example.com",
                "password": "correct horse",
            },
        )
        for i in range(3)
    ]
    assert [r.status_code for r in signups[:2]] == [201, 201]
    _assert_limited(signups[2], "30")


def test_purchases_are_rate_limited_per_user_not_per_token(front_door, users):
    server = front_door(RATE_LIMIT_ORDERS_PER_SECOND="1", RATE_LIMIT_ORDERS_BURST="1")
    alice, bob = users.create(), users.create()
    now = int(time.time())
    alice_tokens = [{"Authorization": f"Bearer {users.token(alice['id'], now=now - i)}"} for i in range(3)]
    assert len({t["Authorization"] for t in alice_tokens}) == 3
    missing = str(uuid.uuid4())

    # At once, so that the bucket cannot leak in between even on a slow machine.
    answers = run_together([partial(_purchase, server, token, missing) for token in alice_tokens])
    statuses = sorted(answer.status_code for answer, _ in answers)
    assert statuses == [404, 404, 429]  # the rate's one + a burst of 1; tokens share her bucket
    _assert_limited(next(answer for answer, _ in answers if answer.status_code == 429), "1")
    assert _purchase(server, bob["headers"], missing)[0].status_code == 404  # Bob has his own
    assert server.get(ORDERS, headers=alice_tokens[0]).status_code == 200  # reading is not limited


def test_rate_limits_off_turns_every_limit_off(front_door, users):
    server = front_door(
        RATE_LIMITS="off",
        RATE_LIMIT_LOGIN_PER_MINUTE="1",
        RATE_LIMIT_LOGIN_BURST="1",
        RATE_LIMIT_ORDERS_PER_SECOND="1",
        RATE_LIMIT_ORDERS_BURST="1",
    )
    alice = users.create()
    statuses = [
        server.post("/api/v1/login", json={"email": f"y{i}@example.com", "password": "nope"}).status_code
        for i in range(4)
    ]
    statuses += [_purchase(server, alice["headers"], str(uuid.uuid4()))[0].status_code for _ in range(4)]
    assert 429 not in statuses, statuses
