from ticketing import db, sql

JOIN = sql.load("queue/join", prepare=True)
ENTRY = sql.load("queue/entry", prepare=True)
STATS = sql.load("queue/stats")
ADMIT = sql.load("queue/admit")
GAUGES = sql.load("queue/gauges")


def join(*, event_id, user_id, token_version: int) -> dict:
    """Always one row: the caller's current token_version, event_found / queued / open,
    the queue's admit_per_minute and seconds_to_start, and the caller's entry as shown
    (as `entry`), with entry_id (None: nobody joined, see the flags; or a concurrent join
    of the same caller is still running) and created (True: a new entry)."""
    return db.current().one(JOIN, event_id=event_id, user_id=user_id, token_version=token_version)


def entry(*, event_id, user_id) -> dict:
    """Always one row: the caller's token_version, event_found / queued, the queue's
    admit_per_minute and seconds_to_start, and the caller's newest entry as shown
    (status None: no entry)."""
    return db.current().one(ENTRY, event_id=event_id, user_id=user_id)


def stats(*, event_id) -> dict:
    return db.current().one(STATS, event_id=event_id)


def admit() -> int:
    """Admit whoever is due in every open waiting room; how many were admitted."""
    return db.current().one(ADMIT)["admitted"]


def gauges() -> dict:
    """{waiting, passes_out} over every open waiting room (the metrics' queue gauges)."""
    return db.current().one(GAUGES)
