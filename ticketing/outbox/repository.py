from ticketing import db, sql

RECORD = sql.load("outbox/record")
CREATE_ENDPOINT = sql.load("outbox/create_endpoint")
GET_ENDPOINT = sql.load("outbox/get_endpoint")
LIST_ENDPOINTS = sql.load("outbox/list_endpoints")
UPDATE_ENDPOINT = sql.load("outbox/update_endpoint")
DELETE_ENDPOINT = sql.load("outbox/delete_endpoint")
LIST_DELIVERIES = sql.load("outbox/list_deliveries")
RETRY_DELIVERY = sql.load("outbox/retry_delivery")
CLAIM_DUE = sql.load("outbox/claim_due")
RECORD_ATTEMPTS = sql.load("outbox/record_attempts")
PRUNE = sql.load("outbox/prune")


def record(*, type: str, subject_id) -> int:
    """One delivery per endpoint subscribed to `type`; how many."""
    return db.current().execute(RECORD, type=type, subject_id=subject_id)


def create_endpoint(*, url: str, events: list[str], secret: str) -> dict:
    return db.current().one(CREATE_ENDPOINT, url=url, events=events, secret=secret)


def get_endpoint(*, endpoint_id) -> dict | None:
    return db.current().one(GET_ENDPOINT, id=endpoint_id)


def list_endpoints(*, limit: int, offset: int) -> list[dict]:
    return db.current().all(LIST_ENDPOINTS, limit=limit, offset=offset)


def update_endpoint(*, endpoint_id, url=None, events=None, disabled=None) -> dict | None:
    return db.current().one(UPDATE_ENDPOINT, id=endpoint_id, url=url, events=events, disabled=disabled)


def delete_endpoint(*, endpoint_id) -> bool:
    return db.current().one(DELETE_ENDPOINT, id=endpoint_id) is not None


def list_deliveries(*, endpoint_id, limit: int, offset: int) -> list[dict]:
    return db.current().all(LIST_DELIVERIES, endpoint_id=endpoint_id, limit=limit, offset=offset)


def retry_delivery(*, endpoint_id, delivery_id) -> dict | None:
    return db.current().one(RETRY_DELIVERY, endpoint_id=endpoint_id, id=delivery_id)


def claim_due(*, batch_size: int, lease_seconds: int) -> list[dict]:
    return db.current().all(CLAIM_DUE, batch_size=batch_size, lease_seconds=lease_seconds)


def record_attempts(
    *,
    ids: list,
    attempts: list[int],
    statuses: list,
    errors: list,
    delivered: list[bool],
    released: list[bool],
    data: list,
    first_retry_seconds: float,
    retry_hours: int,
) -> int:
    return db.current().execute(
        RECORD_ATTEMPTS,
        ids=ids,
        attempts=attempts,
        statuses=statuses,
        errors=errors,
        delivered=delivered,
        released=released,
        data=data,
        first_retry_seconds=first_retry_seconds,
        retry_hours=retry_hours,
    )


def prune(*, retention_days: int, batch_size: int) -> int:
    """Delete up to `batch_size` deliveries that ended over `retention_days` ago; how many."""
    return db.current().execute(PRUNE, retention_days=retention_days, batch_size=batch_size)
