"""The order state machine. Each transition is one SQL statement; this module turns
'the statement changed nothing' into the right answer and keeps other people's orders
invisible. See docs/orders.md for the diagram."""

from flask import current_app
from psycopg2.errors import ForeignKeyViolation

from ticketing import security
from ticketing.errors import ApiError, NotFound, Unauthorized, ValidationFailed
from ticketing.orders import repository
from ticketing.security import Principal


def purchase(principal: Principal, event_id, quantity: int, idempotency_key=None, request_hash=None) -> dict:
    hold_seconds = current_app.config["SETTINGS"].order_hold_seconds
    # The second attempt covers capacity released between a failed purchase and its
    # explanation (a rejected payment), so the answer never contradicts itself.
    for _ in range(2):
        try:
            order = repository.purchase(
                principal.id,
                principal.token_version,
                event_id,
                quantity,
                hold_seconds,
                idempotency_key,
                request_hash,
            )
        except ForeignKeyViolation:  # a valid token whose account no longer exists
            raise Unauthorized("This account no longer exists") from None
        if order is not None:
            return order
        event = repository.why_not_sold(event_id, principal.id)
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
            raise ApiError("This event has already started; tickets are no longer sold", kind="event-closed")
        if event["remaining"] < quantity:
            left = event["remaining"]
            detail = (
                "No tickets left for this event" if left == 0 else f"Only {left} tickets left for this event"
            )
            raise ApiError(detail, kind="sold-out", remaining=left)
    raise ApiError("Tickets are selling fast; try again", kind="sold-out", remaining=event["remaining"])


def visible_order(principal: Principal, order_id) -> dict:
    """The order, if the caller owns it or is an admin; otherwise 404 as if it did not exist."""
    order = repository.get(order_id)
    if order is None or (str(order["user_id"]) != principal.id and not principal.is_admin):
        raise NotFound("No order with this id")
    return order


def cancel(principal: Principal, order_id) -> dict:
    """The buyer gives up a PENDING order; its tickets go back on sale."""
    if repository.cancel(order_id, principal.id) is None:
        order = repository.get(order_id)
        if order is None or str(order["user_id"]) != principal.id:
            raise NotFound("No order with this id")
        raise ApiError(
            f"The order is {order['status']}; only a PENDING order can be cancelled",
            kind="invalid-transition",
        )
    return repository.get(order_id)


def settle(order_id, status: str, reason: str | None) -> None:
    """The payment provider's verdict. Safe to repeat: a verdict that is already the
    order's state, or that no longer matters, changes nothing."""
    if repository.settle(order_id, status, reason) is not None:
        return
    # Not PENDING (anymore). States only move forward, so a few looks settle any race.
    for _ in range(3):
        current = repository.status_of(order_id)
        if current is None:
            raise NotFound("No order with this id")
        if current == status:
            return
        if current in ("EXPIRED", "CANCELLED") and status == "REJECTED":
            return  # the hold is already released; a failed payment changes nothing
        if current == "EXPIRED" and status == "PAID":
            late = repository.pay_after_expiry(order_id, reason)
            if late is None:
                continue  # someone else moved the order on; look again
            if late["honoured"]:
                return
            raise ApiError(
                "The hold expired and the tickets are no longer available; the payment was"
                " recorded on the order for a refund",
                kind="payment-after-expiry",
            )
        raise ApiError(f"The order is {current}; it cannot become {status}", kind="invalid-transition")
    raise ApiError("The order changed while it was being settled; retry", kind="invalid-transition")
