"""Outgoing webhooks: endpoints, the events recorded for them, and what a delivery sends.
See docs/webhooks.md."""

from __future__ import annotations

import secrets

from flask import current_app

from ticketing.errors import NotFound, ValidationFailed
from ticketing.outbox import repository, targets

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
NO_ENDPOINT = "No webhook endpoint with this id"


def record(*, type: str, subject_id) -> None:
    """Record an event for its subscribers; call it inside the transaction of the change."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    repository.record(type=type, subject_id=subject_id)


def _checked_url(url: str) -> str:
    try:
        targets.resolve(url, current_app.config["SETTINGS"].webhook_allow_private_targets)
    except targets.TargetRefused as refused:
        raise ValidationFailed({"url": [str(refused)]}) from None
    return url


def create_endpoint(*, url: str, events: list[str]) -> dict:
    """A new endpoint with its signing secret (shown this once)."""
    return repository.create_endpoint(
        url=_checked_url(url), events=events, secret="whsec_" + secrets.token_urlsafe(32)
    )


def get_endpoint(endpoint_id) -> dict:
    endpoint = repository.get_endpoint(endpoint_id=endpoint_id)
    if endpoint is None:
        raise NotFound(NO_ENDPOINT)
    return endpoint


def list_endpoints(*, limit: int, offset: int) -> list[dict]:
    return repository.list_endpoints(limit=limit, offset=offset)


def update_endpoint(endpoint_id, changes: dict) -> dict:
    if "url" in changes:
        _checked_url(changes["url"])
    endpoint = repository.update_endpoint(endpoint_id=endpoint_id, **changes)
    if endpoint is None:
        raise NotFound(NO_ENDPOINT)
    return endpoint


def delete_endpoint(endpoint_id) -> None:
    if not repository.delete_endpoint(endpoint_id=endpoint_id):
        raise NotFound(NO_ENDPOINT)


def list_deliveries(endpoint_id, *, limit: int, offset: int) -> list[dict]:
    get_endpoint(endpoint_id)
    return repository.list_deliveries(endpoint_id=endpoint_id, limit=limit, offset=offset)


def retry_delivery(endpoint_id, delivery_id) -> dict:
    delivery = repository.retry_delivery(endpoint_id=endpoint_id, delivery_id=delivery_id)
    if delivery is None:
        raise NotFound("No delivery with this id for this endpoint")
    return delivery
