from ticketing import db, sql

# Both take arrays (one caller, or a batch): always their generic plan (ticketing/sql.py).
JOIN = sql.load("queue/join", prepare=True, generic_plan=True)
ENTRY = sql.load("queue/entry", prepare=True, generic_plan=True)
STATS = sql.load("queue/stats")
ADMIT = sql.load("queue/admit")
GAUGES = sql.load("queue/gauges")


def join(*, event_id, requests: list[dict]) -> list[dict]:
    """Join each of `requests` (dicts with user_id, token_version; one per user) to the
    event's waiting room in one statement. For each, in order: the caller's current
    token_version, event_found / queued / open, the queue's admit_per_minute and
    seconds_to_start, and the caller's entry as shown, with entry_id (None: nobody joined,
    see the flags; or the caller's concurrent join is still running) and created (True: a
    new entry)."""
    rows = db.current().all(
        JOIN,
        event_id=event_id,
        user_ids=[str(r["user_id"]) for r in requests],
        token_versions=[r["token_version"] for r in requests],
    )
    for row in rows:
        del row["ord"]
    return rows


def entry(*, event_id, user_ids: list) -> list[dict]:
    """For each of `user_ids` (one per user), in order: the caller's token_version,
    event_found / queued, the queue's admit_per_minute and seconds_to_start, and the
    caller's newest entry as shown (status None: no entry)."""
    rows = db.current().all(ENTRY, event_id=event_id, user_ids=[str(u) for u in user_ids])
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
