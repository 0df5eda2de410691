"""Buying tickets: the purchase itself is one SQL statement; this turns 'nothing sold' into
the right answer and keeps other people's orders invisible."""

from psycopg2.errors import ForeignKeyViolation

from ticketing.errors import ApiError, NotFound, Unauthorized, ValidationFailed
from ticketing.orders import repository
from ticketing.security import Principal


def purchase(principal: Principal, event_id, quantity: int) -> dict:
    # The second attempt covers capacity released between a failed purchase and its
    # explanation (a rejected payment), so the answer never contradicts itself.
    for _ in range(2):
        try:
            order = repository.purchase(principal.id, event_id, quantity)
        except ForeignKeyViolation:  # a valid token whose account no longer exists
            raise Unauthorized("This account no longer exists") from None
        if order is not None:
            return order
        event = repository.why_not_sold(event_id)
        if event is None:
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
