from ticketing import db, sql

JOIN = sql.load("queue/join", prepare=True)
JOIN_BATCH = sql.load("queue/join_batch", prepare=True, generic_plan=True)
ENTRY = sql.load("queue/entry", prepare=True)
ENTRY_BATCH = sql.load("queue/entry_batch", prepare=True, generic_plan=True)
STATS = sql.load("queue/stats")
ADMIT = sql.load("queue/admit")
GAUGES = sql.load("queue/gauges")


def join(*, event_id, user_id, token_version: int) -> dict:
    """Always one row: the caller's current token_version, event_found / queued / open,
    the queue's admit_per_minute and seconds_to_start, and the caller's entry as shown
    (as `entry`), with entry_id (None: nobody joined, see the flags; or a concurrent join
    of the same caller is still running) and created (True: a new entry)."""
    return db.current().one(JOIN, event_id=event_id, user_id=user_id, token_version=token_version)


def join_batch(*, event_id, requests: list[dict]) -> list[dict | None]:
    """Join each of `requests` (dicts with user_id, token_version; one per user) to the
    event's waiting room in one statement: for each, in order, the row `join` returns, or
    None when this statement gave that caller no entry (refused, or their concurrent join
    elsewhere has not committed yet: `join` answers them)."""
    rows = db.current().all(
        JOIN_BATCH,
        event_id=event_id,
        user_ids=[str(r["user_id"]) for r in requests],
        token_versions=[r["token_version"] for r in requests],
    )
    joined = []
    for row in rows:
        del row["ord"]
        joined.append(row if row["entry_id"] is not None else None)
    return joined


def entry(*, event_id, user_id) -> dict:
    """Always one row: the caller's token_version, event_found / queued, the queue's
    admit_per_minute and seconds_to_start, and the caller's newest entry as shown
    (status None: no entry)."""
    return db.current().one(ENTRY, event_id=event_id, user_id=user_id)


def entry_batch(*, event_id, user_ids: list) -> list[dict]:
    """`entry` for each of `user_ids` (one per user), in order, in one read."""
    rows = db.current().all(ENTRY_BATCH, event_id=event_id, user_ids=[str(u) for u in user_ids])
    for row in rows:
        del row["ord"]
    return rows


def stats(*, event_id) -> dict:
    return db.current().one(STATS, event_id=event_id)


def admit() -> int:
    """Admit whoever is due in every open waiting room; how many were admitted."""
    return db.current().one(ADMIT)["admitted"]


def gauges() -> dict:
    """{waiting, passes_out} over every open waiting room (the metrics' queue gauges)."""
    return db.current().one(GAUGES)
