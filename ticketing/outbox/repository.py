from ticketing import db, sql

RECORD = sql.load("outbox/record")


def record(*, type: str, subject_id) -> int:
    """One delivery per endpoint subscribed to `type`; how many."""
    return db.current().execute(RECORD, type=type, subject_id=subject_id)
