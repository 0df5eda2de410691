"""Tickets at the door. The check-in is one SQL statement; this module turns 'the
statement changed nothing' into the right answer and keeps other people's tickets
invisible."""

from ticketing.api import UtcDateTime
from ticketing.errors import ApiError, NotFound
from ticketing.security import Principal
from ticketing.tickets import repository

_time = UtcDateTime()


def check_in(ticket_id) -> dict:
    # A ticket only moves VALID -> USED once its order is PAID, so a second look settles
    # a payment that landed between the refused check-in and its explanation.
    for _ in range(2):
        ticket = repository.check_in(ticket_id)
        if ticket is not None:
            return ticket
        state = repository.check_in_state(ticket_id)
        if state is None:
            raise NotFound("No ticket with this id")
        if state["status"] == "USED":
            raise ApiError(
                "This ticket was already checked in",
                kind="already-checked-in",
                checked_in_at=_time.serialize("checked_in_at", state),
            )
        if state["status"] == "CANCELLED":
            raise ApiError(
                f"This ticket was cancelled (its order is {state['order_status']})", kind="ticket-cancelled"
            )
        if state["order_status"] != "PAID":
            raise ApiError(
                f"This ticket's order is {state['order_status']}, not PAID", kind="ticket-not-paid"
            )
    raise ApiError("The ticket changed while it was being checked in; scan again", kind="ticket-not-paid")


def visible_ticket(principal: Principal, ticket_id) -> dict:
    """The ticket, if the caller owns its order or is an admin; otherwise 404."""
    ticket = repository.get(ticket_id)
    if ticket is None or (str(ticket["user_id"]) != principal.id and not principal.is_admin):
        raise NotFound("No ticket with this id")
    return ticket


def event_stats(event_id) -> dict:
    stats = repository.event_stats(event_id)
    if stats is None:
        raise NotFound("No event with this id")
    return stats
