"""The order state machine. Each transition is one SQL statement; this module turns
'the statement changed nothing' into the right answer and keeps other people's orders
invisible. See docs/orders.md for the diagram."""

from __future__ import annotations

from datetime import timezone

from flask import current_app
from psycopg2.errors import ForeignKeyViolation, UniqueViolation

from ticketing import security
from ticketing.attempts import act_then_explain
from ticketing.errors import (
    EVENT_CLOSED,
    INVALID_TRANSITION,
    PAYMENT_AFTER_EXPIRY,
    PER_USER_LIMIT,
    QUEUE_PASS_REQUIRED,
    SALE_NOT_STARTED,
    SOLD_OUT,
    ApiError,
    NotFound,
    Unauthorized,
    ValidationFailed,
)
from ticketing.orders import idempotency, repository
from ticketing.orders.idempotency import Answer
from ticketing.security import Principal

NO_ORDER = "No order with this id"


def purchase(
    principal: Principal,
    *,
    event_id,
    quantity: int,
    idempotency_key: str | None = None,
    queue_pass: str | None = None,
) -> Answer:
    """Sell `quantity` tickets: the new PENDING order, or (with a key already used for
    this request) the first answer again. Raises the reason when nothing was sold."""
    if idempotency_key is None:
        return Answer(order=_sell(principal, event_id=event_id, quantity=quantity, queue_pass=queue_pass))
    # Optimistic: no lookup first. A used key makes the purchase statement fail and roll
    # back (the key's unique index), and only then is the stored answer read. The statement
    # also checks the token, so a revoked token never reads a stored answer.
    digest = idempotency.request_hash(event_id, quantity)
    try:
        order = _sell(
            principal,
            event_id=event_id,
            quantity=quantity,
            key=idempotency_key,
            digest=digest,
            queue_pass=queue_pass,
        )
    except UniqueViolation:  # a concurrent request with this key sold first
        return idempotency.replay(principal, idempotency_key, digest)
    except ApiError as error:
        if error.status not in (404, 409, 422) or error.kind is SALE_NOT_STARTED:
            # not an answer about this purchase (auth, no pass yet, outage), or one that
            # time alone changes: don't remember it, so the same key works later
            raise
        if idempotency.remember_problem(principal, idempotency_key, digest, error):
            raise
        return idempotency.replay(principal, idempotency_key, digest)
    idempotency.remember_order(principal, idempotency_key, order)
    return Answer(order=order)


def _sell(principal: Principal, *, event_id, quantity: int, key=None, digest=None, queue_pass=None) -> dict:
    hold_seconds = current_app.config["SETTINGS"].order_hold_seconds
    event = {}

    def act():
        try:
            return repository.purchase(
                user_id=principal.id,
                token_version=principal.token_version,
                event_id=event_id,
                quantity=quantity,
                hold_seconds=hold_seconds,
                idempotency_key=key,
                request_hash=digest,
                queue_pass=queue_pass,
            )
        except ForeignKeyViolation:  # a valid token whose account no longer exists
            raise Unauthorized("This account no longer exists") from None

    def explain():
        event.update(repository.why_not_sold(event_id=event_id, user_id=principal.id, queue_pass=queue_pass))
        # The route skipped the token lookup (the purchase statement checked it): first
        # find out whether the token was the reason nothing was sold.
        security.check_not_revoked(principal, event["token_version"])
        if event["remaining"] is None:
            raise NotFound("No event with this id")
        if quantity > event["max_per_order"]:
            raise ValidationFailed(
                {"quantity": [f"At most {event['max_per_order']} tickets per order for this event."]}
            )
        if event["closed"]:
            raise ApiError("This event has already started; tickets are no longer sold", kind=EVENT_CLOSED)
        if event["not_started"]:
            starts = event["sale_starts_at"]
            raise ApiError(
                "Tickets for this event are not on sale yet",
                kind=SALE_NOT_STARTED,
                sale_starts_at=starts.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
            )
        if event["queued"]:
            _check_pass(event, queue_pass)
        limit, held = event["max_per_user"], event["held"] or 0
        if limit is not None and held + quantity > limit:
            allowed = max(0, limit - held)
            raise ApiError(
                f"At most {limit} tickets per user for this event; you may buy {allowed} more",
                kind=PER_USER_LIMIT,
                allowed=allowed,
            )
        if event["remaining"] < quantity:
            left = event["remaining"]
            detail = (
                "No tickets left for this event" if left == 0 else f"Only {left} tickets left for this event"
            )
            raise ApiError(detail, kind=SOLD_OUT, remaining=left)
        return None  # capacity came back in between (a rejected payment): try again

    return act_then_explain(
        act,
        explain,
        attempts=2,
        gave_up=lambda: ApiError(
            "Tickets are selling fast; try again", kind=SOLD_OUT, remaining=event["remaining"]
        ),
    )


def _check_pass(event: dict, queue_pass: str | None) -> None:
    """The event has a waiting room: raise QUEUE_PASS_REQUIRED unless the pass given is
    valid (it may have been used or expired just now: then say which)."""
    if queue_pass is None:
        problem = "This event has a waiting room: join it, and send the Queue-Pass you get when admitted"
    elif event["pass_state"] is None:
        problem = "Unknown Queue-Pass"
    elif not event["pass_for_event"]:
        problem = "This Queue-Pass was issued for another event"
    elif not event["pass_mine"]:
        problem = "This Queue-Pass was issued to another user"
    elif event["pass_state"] == "purchased":
        problem = "This Queue-Pass has already been used"
    elif event["pass_state"] == "expired":
        problem = "This Queue-Pass has expired; join the queue again"
    else:
        return
    raise ApiError(problem, kind=QUEUE_PASS_REQUIRED)


def list_mine(principal: Principal, *, limit: int, offset: int) -> list[dict]:
    return repository.list_for_user(user_id=principal.id, limit=limit, offset=offset)


def visible_order(principal: Principal, order_id) -> dict:
    """The order, if the caller owns it or is an admin; otherwise 404 as if it did not exist."""
    return security.visible_or_404(principal, repository.get(order_id=order_id), NO_ORDER)


def cancel(principal: Principal, order_id) -> dict:
    """The buyer gives up a PENDING order; its tickets go back on sale."""
    if repository.cancel(order_id=order_id, user_id=principal.id) is None:
        order = repository.get(order_id=order_id)
        security.visible_or_404(principal, order, NO_ORDER, admins_see_all=False)
        raise ApiError(
            f"The order is {order['status']}; only a PENDING order can be cancelled", kind=INVALID_TRANSITION
        )
    return repository.get(order_id=order_id)


def settle(order_id, status: str, reason: str | None) -> None:
    """The payment provider's verdict. Safe to repeat: a verdict that is already the
    order's state, or that no longer matters, changes nothing."""

    def explain():
        # Not PENDING (anymore). States only move forward, so a few looks settle any race.
        current = repository.status_of(order_id=order_id)
        if current is None:
            raise NotFound(NO_ORDER)
        if current == status:
            return current
        if current in ("EXPIRED", "CANCELLED") and status == "REJECTED":
            return current  # the hold is already released; a failed payment changes nothing
        if current == "EXPIRED" and status == "PAID":
            late = repository.pay_after_expiry(order_id=order_id, reason=reason)
            if late is None:
                return None  # someone else moved the order on; look again
            if late["honoured"]:
                return "PAID"
            raise ApiError(
                "The hold expired and the tickets are no longer available; the payment was"
                " recorded on the order for a refund",
                kind=PAYMENT_AFTER_EXPIRY,
            )
        raise ApiError(f"The order is {current}; it cannot become {status}", kind=INVALID_TRANSITION)

    act_then_explain(
        lambda: repository.settle(order_id=order_id, status=status, reason=reason),
        explain,
        attempts=3,
        gave_up=lambda: ApiError(
            "The order changed while it was being settled; retry", kind=INVALID_TRANSITION
        ),
    )
