"""Outgoing webhooks: the rules (see docs/webhooks.md)."""

from __future__ import annotations

from ticketing.outbox import repository

EVENT_TYPES = (
    "order.created",
    "order.paid",
    "order.rejected",
    "order.cancelled",
    "order.expired",
    "order.refunded",
    "ticket.checked_in",
    "event.sold_out",
)


def record(*, type: str, subject_id) -> None:
    """Record an event for its subscribers; call it inside the transaction of the change."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    repository.record(type=type, subject_id=subject_id)
