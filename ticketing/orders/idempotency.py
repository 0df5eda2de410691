"""Safe purchase retries with an `Idempotency-Key` header.

The key is claimed by the purchase statement itself (same transaction as the order), so
a claimed key always has its order and vice versa. A retry with the same key and body
replays the first answer with `Idempotent-Replayed: true`; concurrent retries block on
the key's unique index until the first commits, then replay it. Errors that sold nothing
(404, 409, 422) are remembered too, so a retry gets the same answer.
"""

import hashlib

import orjson
from flask import Response
from psycopg2.errors import UniqueViolation

from ticketing.errors import PROBLEM_CONTENT_TYPE, ApiError
from ticketing.orders import repository, service
from ticketing.orders.schemas import OrderOut, order_location
from ticketing.security import Principal

KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_order_out = OrderOut()


def request_hash(event_id, quantity: int) -> str:
    return hashlib.sha256(f"POST /api/v1/orders\n{event_id}\n{quantity}".encode()).hexdigest()


def _response(status: int, body, order_id=None, replayed=False) -> Response:
    content_type = PROBLEM_CONTENT_TYPE if status >= 400 else "application/json"
    response = Response(orjson.dumps(body), status=status, content_type=content_type)
    if order_id is not None:
        response.headers["Location"] = order_location(order_id)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _replay(principal: Principal, key: str, digest: str) -> Response:
    prior = repository.find_idempotency_key(principal.id, key)
    if prior is None:  # pruned in between: extremely unlikely, never silently re-buy
        raise ApiError(
            "This Idempotency-Key expired while in use; use a new key", kind="idempotency-key-reused"
        )
    if prior["request_hash"] != digest:
        raise ApiError(
            "This Idempotency-Key was used for a different request; use a new key",
            kind="idempotency-key-reused",
        )
    body = prior["response_body"]
    status = prior["response_status"]
    if body is None:  # the first request sold but has not stored its answer yet
        body, status = _order_out.dump(repository.get(prior["order_id"])), 201
    return _response(status, body, order_id=prior["order_id"], replayed=True)


def purchase(principal: Principal, event_id, quantity: int, key: str) -> Response:
    # Optimistic: no lookup first. A used key makes the purchase statement fail and roll
    # back (the key's unique index), and only then is the stored answer read. The statement
    # also checks the token, so a revoked token never reads a stored answer.
    digest = request_hash(event_id, quantity)
    try:
        order = service.purchase(principal, event_id, quantity, key, digest)
    except UniqueViolation:  # a concurrent request with this key sold first
        return _replay(principal, key, digest)
    except ApiError as error:
        if error.status not in (404, 409, 422):
            raise  # not an answer about this purchase (auth, outage): don't remember it
        if repository.record_idempotent_error(
            principal.id, key, digest, error.status, orjson.dumps(error.body()).decode()
        ):
            raise
        return _replay(principal, key, digest)
    body = _order_out.dump(order)
    repository.store_idempotent_response(principal.id, key, order["id"], 201, orjson.dumps(body).decode())
    return _response(201, body, order_id=order["id"])
