"""The waiting room's rules: who may join, what an entry shows, when to poll again.
Admission itself is a sweep (ticketing/queue/admission.py); the pass is checked and used
by the purchase statement (sql/orders/purchase.sql)."""

from __future__ import annotations

import math

from flask import current_app

from ticketing import metrics, security
from ticketing.attempts import act_then_explain
from ticketing.errors import EVENT_CLOSED, NO_QUEUE, ApiError, NotFound, ServiceUnavailable
from ticketing.orders.batching import NotSold, TimedOut
from ticketing.queue import repository
from ticketing.security import Principal

NO_EVENT = "No event with this id"
_JOINS = {True: metrics.QUEUE_JOINS.labels("new"), False: metrics.QUEUE_JOINS.labels("existing")}
RETRY_MIN, RETRY_MAX = 1, 60


def _check_event(row: dict) -> None:
    if not row["event_found"]:
        raise NotFound(NO_EVENT)
    if not row["queued"]:
        raise ApiError("This event has no waiting room: buy directly", kind=NO_QUEUE)


def join(principal: Principal, event_id) -> tuple[dict, bool]:
    """The caller's entry as they see it (with `retry_after`), and whether it is new
    (False: their live entry already)."""

    def act():
        row = _join_row(principal, event_id)
        security.check_not_revoked(principal, row["token_version"])
        _check_event(row)
        if not row["open"]:
            raise ApiError("This event has already started; tickets are no longer sold", kind=EVENT_CLOSED)
        return row if row["entry_id"] is not None else None

    joined = act_then_explain(
        act,
        lambda: None,  # the caller's concurrent join had not committed yet: look again
        attempts=3,
        gave_up=lambda: ServiceUnavailable(
            "You are joining this queue from elsewhere at the same time; retry", retry_after=1
        ),
    )
    joined["retry_after"] = retry_after(joined)
    metrics.count(_JOINS[joined["created"]])
    return joined, joined["created"]


def _join_row(principal: Principal, event_id) -> dict:
    """join.sql's row for the caller. With the join batcher (QUEUE_BATCHING), joins of the
    event that arrive while one is in flight in this process are made together, one
    statement and one commit for all; a lone joiner runs the statement alone."""
    request = {"user_id": principal.id, "token_version": principal.token_version}
    row = _batched(
        "ticketing.join_batcher",
        event_id,
        principal,
        request,
        lambda requests: repository.join(event_id=event_id, requests=requests),
    )
    if row is None:  # no batcher, or the batch statement failed: alone
        row = repository.join(event_id=event_id, requests=[request])[0]
    return row


def _entry_row(principal: Principal, event_id) -> dict:
    """entry.sql's row for the caller; with the poll batcher (QUEUE_BATCHING), polls of the
    event that arrive while one is being read are read together."""
    row = _batched(
        "ticketing.poll_batcher",
        event_id,
        principal,
        principal.id,
        lambda user_ids: repository.entry(event_id=event_id, user_ids=user_ids),
    )
    if row is None:  # no batcher, or the batch read failed: alone
        row = repository.entry(event_id=event_id, user_ids=[principal.id])[0]
    return row


def _batched(name: str, event_id, principal: Principal, request, execute) -> dict | None:
    """`request`'s row from the statement the app's batcher `name` ran it in (None without
    a batcher, or when a statement of several failed: each member then runs alone)."""
    batcher = current_app.extensions.get(name)
    if batcher is None:
        return None
    try:
        outcome = batcher.submit(str(event_id), str(principal.id), request, execute)
    except TimedOut:
        raise ServiceUnavailable(
            "Too many callers of this queue are waiting; retry shortly",
            retry_after=current_app.config["SETTINGS"].retry_after_seconds,
        ) from None
    return None if isinstance(outcome, NotSold) else outcome


def my_entry(principal: Principal, event_id) -> dict:
    """The caller's newest entry as they see it, with `retry_after` (seconds) while it waits."""
    row = _entry_row(principal, event_id)
    security.check_not_revoked(principal, row["token_version"])
    _check_event(row)
    if row["status"] is None:
        raise NotFound("You have not joined this event's queue")
    row["retry_after"] = retry_after(row)
    return row


def retry_after(entry: dict) -> int | None:
    """When polling a waiting (or sold-out) entry is worth it again, in seconds (1-60):
    before the start, the time to the start; after it, when this place should come up
    at admit_per_minute; sold out, the longest wait. None for every other status."""
    status = entry["status"]
    if status == "sold_out":
        return RETRY_MAX
    if status != "waiting":
        return None
    if entry["position"] is None:  # before the start
        seconds = float(entry["seconds_to_start"] or 0)
    else:
        seconds = entry["position"] * 60 / entry["admit_per_minute"]
    return min(RETRY_MAX, max(RETRY_MIN, math.ceil(seconds)))


def stats(event_id) -> dict:
    row = repository.stats(event_id=event_id)
    _check_event(row)
    return row
