"""Tickets: check-in at the door (by id or by signed code), who sees a ticket and its
code, transfers between accounts. Each change is one SQL statement; this module turns
'the statement changed nothing' into the right answer and keeps other people's tickets
invisible."""

from flask import current_app

from ticketing import security
from ticketing.api import UtcDateTime
from ticketing.attempts import act_then_explain
from ticketing.errors import (
    ALREADY_CHECKED_IN,
    EVENT_CLOSED,
    INVALID_TICKET_CODE,
    INVALID_TRANSITION,
    TICKET_CANCELLED,
    TICKET_CODE_REVOKED,
    TICKET_NOT_PAID,
    UNKNOWN_RECIPIENT,
    WRONG_EVENT,
    ApiError,
    NotFound,
    ValidationFailed,
)
from ticketing.security import Principal
from ticketing.tickets import codes, repository

_time = UtcDateTime()
NO_TICKET = "No ticket with this id"


def _seed() -> bytes:
    return current_app.config["SETTINGS"].ticket_signing_key


def check_in(ticket_id, code: codes.Code | None = None) -> dict:
    """Check the ticket in; with a verified `code`, only while the code is still the
    ticket's current one (a transfer revokes older codes)."""

    def explain():
        state = repository.check_in_state(ticket_id=ticket_id)
        if state is None:
            raise NotFound(NO_TICKET)
        if code is not None:
            if str(state["event_id"]) != code.event_id:
                raise ApiError("This code does not match its ticket", kind=INVALID_TICKET_CODE)
            if state["code_version"] != code.version:
                raise ApiError(
                    "This code was revoked: the ticket changed hands and has a newer code",
                    kind=TICKET_CODE_REVOKED,
                    current_version=state["code_version"],
                )
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
        return None  # the payment (or a transfer back) just landed: try again

    return act_then_explain(
        lambda: repository.check_in(
            ticket_id=ticket_id,
            code_version=code and code.version,
            event_id=code and code.event_id,
        ),
        explain,
        attempts=2,
        gave_up=lambda: ApiError(
            "The ticket changed while it was being checked in; scan again", kind=TICKET_NOT_PAID
        ),
    )


def check_in_by_code(code: str, event_id=None) -> dict:
    """POST /check-ins: verify the signature (422 if it is not ours), refuse a ticket of
    another event than the door's (`event_id`, when given), then check in."""
    try:
        verified = codes.verify(_seed(), code)
    except codes.InvalidCode as exc:
        raise ApiError(f"Not a valid ticket code: {exc}", kind=INVALID_TICKET_CODE) from None
    if event_id is not None and str(event_id) != verified.event_id:
        raise ApiError("This ticket is for another event", kind=WRONG_EVENT, event_id=verified.event_id)
    return check_in(verified.ticket_id, verified)


def public_key() -> dict:
    return {"algorithm": codes.ALGORITHM, "public_key": codes.public_key(_seed())}


def shown(principal: Principal, ticket: dict) -> dict:
    return codes.shown_to(principal, ticket, ticket["order_status"])


def visible_ticket(principal: Principal, ticket_id) -> dict:
    """The ticket, if the caller holds it or is staff or an admin; otherwise 404. The
    buyer of a ticket given away no longer sees it here (their order still lists it)."""
    row = security.visible_or_404(
        principal, repository.get(ticket_id=ticket_id), NO_TICKET, owner="holder_id", seen_by=security.DOOR
    )
    return shown(principal, row)


def list_held(principal: Principal, *, limit: int, offset: int) -> list[dict]:
    rows = repository.list_for_holder(user_id=principal.id, limit=limit, offset=offset)
    return [shown(principal, row) if row["id"] is not None else row for row in rows]


def revoked_codes(event_id, *, limit: int, offset: int) -> list[dict]:
    rows = repository.revoked_codes(event_id=event_id, limit=limit, offset=offset)
    if not rows:
        raise NotFound("No event with this id")
    for row in rows:
        if row["id"] is not None:
            row["ticket_id"] = row["id"]
            row["revoked_versions"] = list(range(1, row["current_version"]))
    return rows


def transfer(principal: Principal, ticket_id, email: str) -> dict:
    """The holder gives the ticket to the account with `email`; its code version goes up
    in the same statement, so the codes shown before are refused at the door."""

    def explain():
        state = repository.transfer_state(ticket_id=ticket_id, email=email)
        if state is None or str(state["holder_id"]) != principal.id:
            raise NotFound(NO_TICKET)
        if state["recipient_id"] is None:
            raise ApiError(
                "No account has this email; the recipient must sign up first", kind=UNKNOWN_RECIPIENT
            )
        if str(state["recipient_id"]) == principal.id:
            raise ValidationFailed({"email": ["This is your own account: you already hold this ticket."]})
        if state["status"] == "USED":
            raise ApiError(
                "This ticket was already checked in; it can no longer be transferred",
                kind=ALREADY_CHECKED_IN,
                checked_in_at=_time.serialize("checked_in_at", state),
            )
        if state["status"] == "CANCELLED":
            raise ApiError(
                f"This ticket was cancelled (its order is {state['order_status']})", kind=TICKET_CANCELLED
            )
        if state["order_status"] != "PAID":
            raise ApiError(
                f"This ticket's order is {state['order_status']}; only paid tickets can be transferred",
                kind=TICKET_NOT_PAID,
            )
        if state["started"] or state["event_deleted"]:
            raise ApiError(
                "This event has started (or was cancelled); its tickets can no longer be transferred",
                kind=EVENT_CLOSED,
            )
        if state["code_version"] >= codes.MAX_VERSION:
            raise ApiError("This ticket has changed hands too many times", kind=INVALID_TRANSITION)
        return None  # the state moved on in between (e.g. it came back to us): try again

    moved = act_then_explain(
        lambda: repository.transfer(ticket_id=ticket_id, user_id=principal.id, email=email),
        explain,
        attempts=2,
        gave_up=lambda: ApiError(
            "The ticket changed while it was being transferred; retry", kind=INVALID_TRANSITION
        ),
    )
    return shown(principal, moved)


def event_stats(event_id) -> dict:
    stats = repository.event_stats(event_id=event_id)
    if stats is None:
        raise NotFound("No event with this id")
    return stats
