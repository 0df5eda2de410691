"""Safe purchase retries with an `Idempotency-Key`: the domain half (the route renders).

The key is claimed by the purchase statement itself (same transaction as the order), so
a claimed key always has its order and vice versa. A retry with the same key and body
gets the first answer again; concurrent retries block on the key's unique index until
the first commits, then get its answer. Errors that sold nothing (404, 409, 422) are
remembered too, so a retry gets the same answer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app

from ticketing.api import API_PREFIX
from ticketing.errors import IDEMPOTENCY_KEY_REUSED, ApiError
from ticketing.orders import repository
from ticketing.security import Principal


@dataclass(frozen=True)
class Answer:
    """What a purchase answered: the order it sold, or the problem it got (never both)."""

    order: dict | None = None
    problem: dict | None = None
    replayed: bool = False


def request_hash(event_id, quantity: int, ticket_type_id=None) -> str:
    # Without a type the text is what it was before ticket types, so keys stored then
    # still match their retries; a type adds a line (and differs from no type at all).
    text = f"POST {API_PREFIX}/orders\n{event_id}\n{quantity}"
    if ticket_type_id is not None:
        text += f"\n{ticket_type_id}"
    return hashlib.sha256(text.encode()).hexdigest()


def replay(principal: Principal, key: str, digest: str) -> Answer:
    """The first answer given for this key; 422 if it was for another request."""
    prior = repository.find_idempotency_key(user_id=principal.id, key=key)
    if prior is None:  # pruned in between: extremely unlikely, never silently re-buy
        raise ApiError(
            "This Idempotency-Key expired while in use; use a new key", kind=IDEMPOTENCY_KEY_REUSED
        )
    if prior["request_hash"] != digest:
        raise ApiError(
            "This Idempotency-Key was used for a different request; use a new key",
            kind=IDEMPOTENCY_KEY_REUSED,
        )
    if prior["response_status"] is not None and prior["response_status"] >= 400:
        return Answer(problem=prior["response_body"], replayed=True)
    # The order as it was sold; if that copy is not stored yet (the first request is
    # still answering) or was lost, the order as it is now.
    order = prior["response_body"] or repository.get(order_id=prior["order_id"])
    return Answer(order=order, replayed=True)


def remember_order(principal: Principal, key: str, order: dict) -> None:
    repository.store_idempotent_response(
        user_id=principal.id,
        key=key,
        order_id=order["id"],
        response_status=201,
        response_body=current_app.json.dumps(order),
    )


def remember_problem(principal: Principal, key: str, digest: str, error: ApiError) -> bool:
    """Store the problem; False if a concurrent request with this key answered first."""
    return repository.record_idempotent_error(
        user_id=principal.id,
        key=key,
        request_hash=digest,
        response_status=error.status,
        response_body=current_app.json.dumps(error.body()),
    )
