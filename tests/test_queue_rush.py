"""A rush through the waiting room, against gunicorn whose workers admit by themselves:
2,000 buyers join within a few seconds of the start of a 500-ticket sale, poll honouring
Retry-After, and buy one ticket each as soon as they are admitted."""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import requests

from tests.support.books import assert_books_balance
from tests.support.timeouts import WAIT_TIMEOUT

BUYERS = 2000
TICKETS = 500
# 50 a second: the 500 tickets are admitted in about 10 s, and every later place learns it
# is sold out within a minute (Retry-After is at most 60 s) on a 2-core machine.
ADMIT_PER_MINUTE = 3000
CHEATERS = 100  # buyers who first try to buy without a pass
LEAD_SECONDS = 4  # the sale starts this long after the buyers are ready
RUSH_DEADLINE = 4 * WAIT_TIMEOUT


class Scheduler:
    """Buyers as timed steps: `at(seconds_from_now, step)` runs `step()` on a pool of
    threads when due; a step schedules its buyer's next one. `run()` returns when no step
    is left (or fails at the deadline)."""

    def __init__(self, threads: int):
        self.pool = ThreadPoolExecutor(threads)
        self.due: list = []
        self.order = itertools.count()
        self.running = 0
        self.changed = threading.Condition()
        self.errors: list[BaseException] = []

    def at(self, delay: float, step) -> None:
        with self.changed:
            heapq.heappush(self.due, (time.monotonic() + max(0.0, delay), next(self.order), step))
            self.changed.notify()

    def _run(self, step) -> None:
        try:
            step()
        except BaseException as exc:  # raised again by run()
            self.errors.append(exc)
        finally:
            with self.changed:
                self.running -= 1
                self.changed.notify()

    def run(self, deadline: float) -> None:
        stop = time.monotonic() + deadline
        with self.changed:
            while (self.due or self.running) and not self.errors:
                assert time.monotonic() < stop, f"the rush did not end within {deadline} s"
                if self.due and self.due[0][0] <= time.monotonic():
                    _, _, step = heapq.heappop(self.due)
                    self.running += 1
                    self.pool.submit(self._run, step)
                    continue
                wait = self.due[0][0] - time.monotonic() if self.due else 1.0
                self.changed.wait(min(max(wait, 0.0), 1.0))
        self.pool.shutdown(wait=True)
        if self.errors:
            raise self.errors[0]


def test_a_rush_through_the_queue_sells_exactly_the_tickets_to_the_first_admitted(
    gunicorn, make_event, users, sql
):
    server = gunicorn(QUEUE_ADMIT_MS="100", WEB_CONCURRENCY="3", DB_POOL_SIZE="2")
    starts = datetime.now(timezone.utc) + timedelta(seconds=LEAD_SECONDS + 2)
    event_id = make_event(
        capacity=TICKETS,
        max_per_user=1,
        sale_starts_at=starts.isoformat().replace("+00:00", "Z"),
        queue={"admit_per_minute": ADMIT_PER_MINUTE, "pass_seconds": 300},
    )["id"]
    buyers = users.many_headers(BUYERS)
    rng = random.Random(20261207)
    cheaters = set(rng.sample(range(BUYERS), CHEATERS))
    local = threading.local()
    outcome: dict[int, str] = {}
    without_pass: Counter = Counter()
    polls = Counter()
    scheduler = Scheduler(threads=48)

    def send(method, path, **kwargs):
        """One request on this thread's kept-alive connection. gunicorn closes a connection
        idle for 5 s (its keepalive) and buyers here wait Retry-After between polls, so a
        request can meet a connection closed under it, unanswered: then it is sent once
        more on a fresh one, as browsers do. Every request here may be repeated: a join
        answers the live entry, a purchase carries its buyer's Idempotency-Key."""
        for attempt in (1, 2):
            if not hasattr(local, "session"):
                local.session = requests.Session()
            try:
                return server.request(method, path, session=local.session, **kwargs)
            except requests.ConnectionError:
                local.session.close()
                del local.session
                if attempt == 2:
                    raise

    def call(method, path, i):
        return send(method, path, headers=buyers[i])

    def buy(i, queue_pass=None):
        headers = {**buyers[i], "Idempotency-Key": f"rush-{event_id}-{i}-{queue_pass}"}
        if queue_pass:
            headers["Queue-Pass"] = queue_pass
        return send("POST", "/api/v1/orders", json={"event_id": event_id, "quantity": 1}, headers=headers)

    def follow(i, response):
        assert response.status_code in (200, 201), response.text
        entry = response.json()
        status = entry["status"]
        if status == "admitted":
            bought = buy(i, entry["pass"])
            assert bought.status_code == 201, bought.text  # an admitted buyer always gets a ticket
            outcome[i] = "purchased"
        elif status == "sold_out":
            outcome[i] = "sold_out"
        else:
            assert status == "waiting", entry
            retry_after = int(response.headers["Retry-After"])
            assert 1 <= retry_after <= 60
            scheduler.at(retry_after, lambda: poll(i))

    def poll(i):
        polls[i] += 1
        follow(i, call("GET", f"/api/v1/events/{event_id}/queue", i))

    def join(i):
        if i in cheaters:
            refused = buy(i)
            without_pass[refused.json()["type"]] += 1
        follow(i, call("POST", f"/api/v1/events/{event_id}/queue", i))

    # Everyone joins within a few seconds of the start: from 2 s before it to 3 s after.
    ready = time.monotonic()
    for i in range(BUYERS):
        scheduler.at(LEAD_SECONDS + rng.uniform(-2, 3) - (time.monotonic() - ready), lambda i=i: join(i))
    scheduler.run(RUSH_DEADLINE)

    # exactly the tickets were sold, every buyer knows where they stand
    assert Counter(outcome.values()) == {"purchased": TICKETS, "sold_out": BUYERS - TICKETS}
    assert len(outcome) == BUYERS
    assert sql.value("SELECT remaining FROM events WHERE id = %s", (event_id,)) == 0
    assert sql.value("SELECT count(*) FROM orders WHERE event_id = %s", (event_id,)) == TICKETS
    assert_books_balance(sql)
    # nobody bought without a pass
    # (before the start, the sale not having started is the first reason given)
    assert set(without_pass) <= {"/problems/queue-pass-required", "/problems/sale-not-started"}, without_pass
    assert without_pass["/problems/queue-pass-required"] > 0 and sum(without_pass.values()) == CHEATERS
    assert (
        sql.value(
            "SELECT count(*) FROM orders o WHERE o.event_id = %s AND NOT EXISTS (SELECT 1 FROM queue_entries q"
            " WHERE q.event_id = o.event_id AND q.user_id = o.user_id AND q.status = 'purchased')",
            (event_id,),
        )
        == 0
    )
    # the tickets went to the first admitted: nobody was admitted in vain, so the admitted
    # are exactly the buyers, and the admissions were paced
    entries = sql.all(
        "SELECT status, admitted_at FROM queue_entries WHERE event_id = %s AND admitted_at IS NOT NULL"
        " ORDER BY admitted_at",
        (event_id,),
    )
    assert len(entries) == TICKETS and {e["status"] for e in entries} == {"purchased"}
    span = (entries[-1]["admitted_at"] - entries[0]["admitted_at"]).total_seconds()
    assert span >= (TICKETS - 1) / (ADMIT_PER_MINUTE / 60) - 1
    # polling honoured Retry-After: a few polls each, not a storm
    assert sum(polls.values()) < 10 * BUYERS
