from ticketing import db, sql

CHECK_IN = sql.load("tickets/check_in")
CHECK_IN_STATE = sql.load("tickets/check_in_state")
GET = sql.load("tickets/get")
EVENT_STATS = sql.load("tickets/event_stats")
LIST_FOR_HOLDER = sql.load("tickets/list_for_holder")
REVOKED_CODES = sql.load("tickets/revoked_codes")
TRANSFER = sql.load("tickets/transfer")
TRANSFER_STATE = sql.load("tickets/transfer_state")


def check_in(*, ticket_id, code_version: int | None = None, event_id=None) -> dict | None:
    """Mark a VALID ticket of a PAID order USED; None if it was not checked in now. With a
    code's `code_version` and `event_id`, only if the ticket is still at that version."""
    return db.current().one(CHECK_IN, id=ticket_id, code_version=code_version, event_id=event_id)


def check_in_state(*, ticket_id) -> dict | None:
    return db.current().one(CHECK_IN_STATE, id=ticket_id)


def get(*, ticket_id) -> dict | None:
    return db.current().one(GET, id=ticket_id)


def event_stats(*, event_id) -> dict | None:
    return db.current().one(EVENT_STATS, id=event_id)


def list_for_holder(*, user_id, limit: int, offset: int) -> list[dict]:
    return db.current().all(LIST_FOR_HOLDER, user_id=user_id, limit=limit, offset=offset)


def revoked_codes(*, event_id, limit: int, offset: int) -> list[dict]:
    """A page of {total, id, current_version}; no rows at all when there is no such event."""
    return db.current().all(REVOKED_CODES, event_id=event_id, limit=limit, offset=offset)


def transfer(*, ticket_id, user_id, email: str) -> dict | None:
    """Give the ticket `user_id` holds to the account with `email`, bumping its code
    version; None if nothing changed (transfer_state says why)."""
    return db.current().one(TRANSFER, id=ticket_id, user_id=user_id, email=email)


def transfer_state(*, ticket_id, email: str) -> dict | None:
    return db.current().one(TRANSFER_STATE, id=ticket_id, email=email)
