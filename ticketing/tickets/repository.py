from ticketing import db, sql

CHECK_IN = sql.load("tickets/check_in")
CHECK_IN_STATE = sql.load("tickets/check_in_state")
GET = sql.load("tickets/get")
EVENT_STATS = sql.load("tickets/event_stats")


def check_in(*, ticket_id) -> dict | None:
    """Mark a VALID ticket of a PAID order USED; None if it was not checked in now."""
    return db.current().one(CHECK_IN, id=ticket_id)


def check_in_state(*, ticket_id) -> dict | None:
    return db.current().one(CHECK_IN_STATE, id=ticket_id)


def get(*, ticket_id) -> dict | None:
    return db.current().one(GET, id=ticket_id)


def event_stats(*, event_id) -> dict | None:
    return db.current().one(EVENT_STATS, id=event_id)
