"""Group commit of purchases, per event, inside one worker process (PURCHASE_BATCHING).

The first purchase of an event to arrive while none of that event's is in flight leads at
once (after PURCHASE_BATCH_WINDOW_MS, 0 by default: a lone buyer waits for nobody). The
purchases that arrive while it runs queue up; when it ends, the first of them leads the
next batch and takes the others along (up to PURCHASE_BATCH_MAX, at most one per buyer:
a buyer's second purchase waits for the batch after). The leader runs the batch on its own
request's thread and connection (`execute`), then hands every member its outcome: each
answer is sent only after the commit that holds it.

`execute(requests)` returns one outcome per request (an order, or None: not sold by this
batch) or raises; the caller turns "not sold" into the single path's exact answer. A
purchase that waited PURCHASE_BATCH_WAIT_MS in line without being taken gives up with 503;
one taken into a batch waits for that batch (bounded by the statement's own timeout).
Several processes and instances batch independently: the database arbitrates. On one
machine the purchases' leaders take turns per event first (`machine_lock`,
ticketing/orders/machine_lock.py), so the statements of two processes do not queue on the
event's row lock.

The waiting room's joins and polls use the same group commit (ticketing/queue/service.py),
each with its own batcher, statement and metric (`record`).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable

from ticketing import metrics
from ticketing.orders.machine_lock import MachineLock

_UNLOCKED = contextlib.nullcontext()


class NotSold:
    """The outcome of a request the batch did not sell: `ran_alone` when it ran alone
    through the single statement (so that statement's "no row" needs only explaining)."""

    __slots__ = ("ran_alone",)

    def __init__(self, ran_alone: bool):
        self.ran_alone = ran_alone


class TimedOut(Exception):
    """Waited in line longer than PURCHASE_BATCH_WAIT_MS."""


class _Waiter:
    __slots__ = ("request", "buyer", "done", "outcome", "error", "lead")

    def __init__(self, request, buyer):
        self.request = request
        self.buyer = buyer
        # Released exactly once, by whoever answers this waiter. A held Lock is the cheapest
        # one-shot signal: release() is one C call, where Event.set() runs a Condition's
        # notify_all in Python, for every member of every batch (about a tenth of a join's
        # CPU in a rush, py-spy).
        self.done = threading.Lock()
        self.done.acquire()
        self.outcome = NotSold(ran_alone=False)  # if the leader never answers
        self.error: BaseException | None = None
        self.lead = False


class _Lane:
    __slots__ = ("busy", "queue")

    def __init__(self):
        self.busy = False
        self.queue: list[_Waiter] = []


class Batcher:
    def __init__(
        self,
        *,
        max_size: int,
        window_seconds: float,
        wait_seconds: float,
        settle_seconds: float,
        record: Callable[[int], None] = metrics.purchase_batch,  # each batch's size
        machine_lock: MachineLock | None = None,  # PURCHASE_LOCK_FILE (ticketing/orders/machine_lock.py)
    ):
        self.record = record
        self.machine_lock = machine_lock
        self.max_size = max_size
        self.window = window_seconds
        self.wait = wait_seconds
        self.settle = settle_seconds  # how long a member waits for a batch that took it
        self._pid = None
        self._lock = threading.Lock()
        self._lanes: dict = {}

    def _state(self):
        pid = os.getpid()  # after a fork, start empty: no lock or line is shared
        if self._pid != pid:
            self._lock = threading.Lock()
            self._lanes = {}
            self._pid = pid
        return self._lock, self._lanes

    def submit(self, key, buyer, request, execute: Callable[[list], list]):
        """The outcome of `request` (an order or a NotSold) once the batch holding it has
        committed; raises what the statement raised when it ran alone, TimedOut after
        waiting in line too long."""
        lock, lanes = self._state()
        me = _Waiter(request, buyer)
        with lock:
            lane = lanes.get(key)
            if lane is None:
                lane = lanes[key] = _Lane()
            if lane.busy:
                lane.queue.append(me)
            else:
                lane.busy = True
                me.lead = True
        if not me.lead:
            if not me.done.acquire(timeout=self.wait):
                with lock:
                    if me in lane.queue:  # never taken: leave the line
                        lane.queue.remove(me)
                        raise TimedOut()
                # taken into a running batch, or handed the lead just now
                if not me.done.acquire(timeout=self.settle):
                    raise TimedOut()
            if not me.lead:
                if me.error is not None:
                    raise me.error
                return me.outcome
        return self._lead(key, lane, me, execute)

    def _lead(self, key, lane, me, execute):
        if self.window:
            time.sleep(self.window)
        lock, lanes = self._state()
        batch = [me]
        try:
            # The batch is gathered once the machine's lock for the event is held: what
            # arrived meanwhile goes with it.
            with self.machine_lock.held(key) if self.machine_lock else _UNLOCKED:
                with lock:
                    buyers, rest = {me.buyer}, []
                    for waiter in lane.queue:
                        if len(batch) < self.max_size and waiter.buyer not in buyers:
                            batch.append(waiter)
                            buyers.add(waiter.buyer)
                        else:
                            rest.append(waiter)
                    lane.queue = rest
                try:
                    outcomes = execute([w.request for w in batch])
                except Exception as error:  # anything else (the worker exiting) goes up; members fall back
                    if len(batch) == 1:
                        me.error = error
                    else:  # nothing sold: each member runs the single path itself
                        outcomes = [NotSold(ran_alone=False)] * len(batch)
            if me.error is None:
                for waiter, outcome in zip(batch, outcomes):
                    waiter.outcome = NotSold(ran_alone=len(batch) == 1) if outcome is None else outcome
            self.record(len(batch))
        finally:
            for waiter in batch[1:]:
                waiter.done.release()
            with lock:
                if lane.queue:  # the first in line leads the next batch
                    successor = lane.queue.pop(0)
                    successor.lead = True
                    successor.done.release()
                else:
                    lane.busy = False
                    lanes.pop(key, None)
        if me.error is not None:
            raise me.error
        return me.outcome
