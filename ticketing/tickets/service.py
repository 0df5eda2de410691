"""Tickets at the door. The check-in is one SQL statement; this module turns 'the
statement changed nothing' into the right answer and keeps other people's tickets
invisible."""

from ticketing import security
from ticketing.api import UtcDateTime
from ticketing.attempts import act_then_explain
from ticketing.errors import ALREADY_CHECKED_IN, TICKET_CANCELLED, TICKET_NOT_PAID, ApiError, NotFound
from ticketing.security import Principal
from ticketing.tickets import repository

_time = UtcDateTime()


def check_in(ticket_id) -> dict:
    def explain():
        state = repository.check_in_state(ticket_id=ticket_id)
        if state is None:
            raise NotFound("No ticket with this id")
        if state["status"] == "USED":
            raise ApiError(
                "This ticket was already checked in",
                kind=ALREADY_CHECKED_IN,
                checked_in_at=_time.serialize("checked_in_at", state),
            )
        if state["status"] == "CANCELLED":
            raise ApiError(
                f"This ticket was cancelled (its order is {state['order_status']})", kind=TICKET_CANCELLED
            )
        if state["order_status"] != "PAID":
            raise ApiError(f"This ticket's order is {state['order_status']}, not PAID", kind=TICKET_NOT_PAID)
        return None  # a ticket only moves VALID -> USED once PAID: the payment just landed

    return act_then_explain(
        lambda: repository.check_in(ticket_id=ticket_id),
        explain,
        attempts=2,
        gave_up=lambda: ApiError(
            "The ticket changed while it was being checked in; scan again", kind=TICKET_NOT_PAID
        ),
    )


def visible_ticket(principal: Principal, ticket_id) -> dict:
    """The ticket, if the caller owns its order or is an admin; otherwise 404."""
    return security.visible_or_404(principal, repository.get(ticket_id=ticket_id), "No ticket with this id")


def event_stats(event_id) -> dict:
    stats = repository.event_stats(event_id=event_id)
    if stats is None:
        raise NotFound("No event with this id")
    return stats
