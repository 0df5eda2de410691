"""The order state machine. Each transition is one SQL statement; this module turns
'the statement changed nothing' into the right answer and keeps other people's orders
invisible. See docs/orders.md for the diagram."""

from __future__ import annotations

from datetime import timezone

from flask import current_app
from psycopg2.errors import ForeignKeyViolation, UniqueViolation

from ticketing import db, metrics, security
from ticketing.attempts import act_then_explain
from ticketing.errors import (
    EVENT_CLOSED,
    IDEMPOTENCY_KEY_REUSED,
    INVALID_TRANSITION,
    NOT_FOUND,
    PER_USER_LIMIT,
    QUEUE_PASS_REQUIRED,
    SALE_NOT_STARTED,
    SERVICE_UNAVAILABLE,
    SOLD_OUT,
    TICKET_ALREADY_USED,
    UNAUTHORIZED,
    VALIDATION_ERROR,
    ApiError,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
)
from ticketing.orders import idempotency, repository
from ticketing.orders.batching import NotSold, TimedOut
from ticketing.orders.idempotency import Answer
from ticketing.outbox import service as outbox
from ticketing.security import Principal
from ticketing.tickets import codes

NO_ORDER = "No order with this id"

# ticketing_purchases_total{outcome}: the problem a purchase ended with, by kind.
_OUTCOMES = {
    SOLD_OUT: "sold_out",
    VALIDATION_ERROR: "limit",  # more than the event's max_per_order
    PER_USER_LIMIT: "limit",
    QUEUE_PASS_REQUIRED: "queue_pass",
    SALE_NOT_STARTED: "not_on_sale",
    EVENT_CLOSED: "closed",
    NOT_FOUND: "not_found",
    UNAUTHORIZED: "unauthorized",
    IDEMPOTENCY_KEY_REUSED: "invalid",
    SERVICE_UNAVAILABLE: "unavailable",
}


def purchase(
    principal: Principal,
    *,
    event_id,
    quantity: int,
    ticket_type_id=None,
    idempotency_key: str | None = None,
    queue_pass: str | None = None,
) -> Answer:
    """Sell `quantity` tickets: the new PENDING order, or (with a key already used for
    this request) the first answer again. Raises the reason when nothing was sold."""
    try:
        answer = _purchase(
            principal,
            event_id=event_id,
            quantity=quantity,
            ticket_type_id=ticket_type_id,
            idempotency_key=idempotency_key,
            queue_pass=queue_pass,
        )
    except ApiError as error:
        metrics.purchase(_OUTCOMES.get(error.kind, "error"))
        raise
    except Exception:
        metrics.purchase("error")
        raise
    if answer.replayed:
        metrics.purchase("replayed")
    else:
        metrics.purchase("created", tickets=quantity)
    return answer


def _purchase(
    principal: Principal,
    *,
    event_id,
    quantity: int,
    ticket_type_id,
    idempotency_key: str | None,
    queue_pass: str | None,
) -> Answer:
    if idempotency_key is None:
        return Answer(
            order=_sell(
                principal,
                event_id=event_id,
                quantity=quantity,
                ticket_type_id=ticket_type_id,
                queue_pass=queue_pass,
            )
        )
    # Optimistic: no lookup first. A used key makes the purchase statement fail and roll
    # back (the key's unique index), and only then is the stored answer read. The statement
    # also checks the token, so a revoked token never reads a stored answer.
    digest = idempotency.request_hash(event_id, quantity, ticket_type_id)
    try:
        order = _sell(
            principal,
            event_id=event_id,
            quantity=quantity,
            ticket_type_id=ticket_type_id,
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


def _sell(
    principal: Principal,
    *,
    event_id,
    quantity: int,
    ticket_type_id=None,
    key=None,
    digest=None,
    queue_pass=None,
) -> dict:
    hold_seconds = current_app.config["SETTINGS"].order_hold_seconds
    event = {}
    request = {
        "user_id": principal.id,
        "token_version": principal.token_version,
        "quantity": quantity,
        "ticket_type_id": ticket_type_id,
        "idempotency_key": key,
        "request_hash": digest,
        "queue_pass": queue_pass,
    }
    answered = []  # the single statement's "nothing sold", already run by the batcher
    batcher = current_app.extensions.get("ticketing.purchase_batcher")
    if batcher is not None:
        outcome = _batched(batcher, event_id, request, hold_seconds)
        if not isinstance(outcome, NotSold):
            return outcome
        if outcome.ran_alone:
            answered.append(None)

    def act():
        if answered:
            return answered.pop()
        try:
            return repository.purchase(event_id=event_id, hold_seconds=hold_seconds, **request)
        except ForeignKeyViolation:  # a valid token whose account no longer exists
            raise Unauthorized("This account no longer exists") from None

    def explain():
        event.update(
            repository.why_not_sold(
                event_id=event_id, user_id=principal.id, ticket_type_id=ticket_type_id, queue_pass=queue_pass
            )
        )
        # The route skipped the token lookup (the purchase statement checked it): first
        # find out whether the token was the reason nothing was sold.
        security.check_not_revoked(principal, event["token_version"])
        if event["remaining"] is None:
            raise NotFound("No event with this id")
        if event["type_id"] is None:
            raise NotFound("No ticket type with this id for this event")
        per_order = min(event["max_per_order"], event["type_max_per_order"])
        if quantity > per_order:
            raise ValidationFailed(
                {"quantity": [f"At most {per_order} tickets per order for this ticket type."]}
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
        if event["remaining"] < quantity or event["type_remaining"] < quantity:
            # the one that ran out: the event (the venue's cap) or the type
            if event["type_remaining"] < event["remaining"]:
                left, what = event["type_remaining"], f"of {event['type_name']!r} for this event"
            else:
                left, what = event["remaining"], "for this event"
            detail = f"No tickets left {what}" if left == 0 else f"Only {left} tickets left {what}"
            raise ApiError(detail, kind=SOLD_OUT, remaining=left)
        return None  # capacity came back in between (a rejected payment): try again

    return act_then_explain(
        act,
        explain,
        attempts=2,
        gave_up=lambda: ApiError(
            "Tickets are selling fast; try again",
            kind=SOLD_OUT,
            remaining=min(event["remaining"], event["type_remaining"]),
        ),
    )


def _batched(batcher, event_id, request: dict, hold_seconds: int):
    """The order the batch holding `request` sold, or NotSold (the single path answers)."""

    def execute(requests: list[dict]) -> list:
        if len(requests) == 1:  # a lone buyer: the single statement, as without batching
            return [repository.purchase(event_id=event_id, hold_seconds=hold_seconds, **requests[0])]
        return repository.purchase_batch(event_id=event_id, hold_seconds=hold_seconds, requests=requests)

    try:
        return batcher.submit(str(event_id), str(request["user_id"]), request, execute)
    except ForeignKeyViolation:  # ran alone: a valid token whose account no longer exists
        raise Unauthorized("This account no longer exists") from None
    except TimedOut:
        settings = current_app.config["SETTINGS"]
        raise ServiceUnavailable(
            "Too many purchases of this event are waiting; retry shortly",
            retry_after=settings.retry_after_seconds,
        ) from None


def shown(principal: Principal, order: dict) -> dict:
    """The order with each ticket's holder and code as `principal` may see them: codes of
    a PAID order's tickets go to their holders (and admins), never to a buyer for a ticket
    they gave away. A just-sold order's tickets are the buyer's, at version 1."""
    for ticket in order["tickets"] or ():
        ticket.setdefault("holder_id", order["user_id"])
        ticket.setdefault("event_id", order["event_id"])
        ticket.setdefault("code_version", 1)
        codes.shown_to(principal, ticket, order["status"])
    return order


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
    rows = repository.list_for_user(user_id=principal.id, limit=limit, offset=offset)
    return [shown(principal, row) if row["id"] is not None else row for row in rows]


def visible_order(principal: Principal, order_id) -> dict:
    """The order, if the caller owns it or is an admin; otherwise 404 as if it did not exist."""
    return shown(principal, security.visible_or_404(principal, repository.get(order_id=order_id), NO_ORDER))


def cancel(principal: Principal, order_id) -> dict:
    """The buyer gives up a PENDING order; its tickets go back on sale."""
    if repository.cancel(order_id=order_id, user_id=principal.id) is None:
        order = repository.get(order_id=order_id)
        security.visible_or_404(principal, order, NO_ORDER, seen_by=())
        raise ApiError(
            f"The order is {order['status']}; only a PENDING order can be cancelled", kind=INVALID_TRANSITION
        )
    return shown(principal, repository.get(order_id=order_id))


def refund(order_id, reason: str | None) -> dict:
    """An admin refunds a PAID order, in one transaction: it becomes REFUNDED, its VALID
    tickets CANCELLED and back on sale, its payment `refund_due`. An order with a ticket
    already checked in cannot be refunded (409 `ticket-already-used`)."""
    with db.current().transaction():
        order = repository.lock(order_id=order_id)
        if order is None:
            raise NotFound(NO_ORDER)
        if order["status"] != "PAID":
            raise ApiError(
                f"The order is {order['status']}; only a PAID order can be refunded", kind=INVALID_TRANSITION
            )
        # Locked, so a check-in racing with the refund either came first (and is seen
        # here) or waits and then finds its ticket CANCELLED.
        used = [t["id"] for t in repository.lock_tickets(order_id=order_id) if t["status"] == "USED"]
        if used:
            raise ApiError(
                f"{len(used)} of the order's tickets were already checked in; it cannot be refunded",
                kind=TICKET_ALREADY_USED,
                used_tickets=[str(ticket) for ticket in used],
            )
        repository.refund(order_id=order_id, reason=reason)
        outbox.record(type="order.refunded", subject_id=order_id)
    return repository.get(order_id=order_id)
