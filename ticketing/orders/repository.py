from ticketing import db, sql

PURCHASE = sql.load("orders/purchase", prepare=True)
PURCHASE_BATCH = sql.load("orders/purchase_batch", prepare=True, generic_plan=True)
WHY_NOT_SOLD = sql.load("orders/why_not_sold")
GET = sql.load("orders/get")
LIST_FOR_USER = sql.load("orders/list_for_user")
SETTLE = sql.load("orders/settle")
PAY_AFTER_EXPIRY = sql.load("orders/pay_after_expiry")
CANCEL = sql.load("orders/cancel")
LOCK = sql.load("orders/lock")
LOCK_TICKETS = sql.load("orders/lock_tickets")
REFUND = sql.load("orders/refund")
EXPIRE_DUE = sql.load("orders/expire_due")
FIND_IDEMPOTENCY_KEY = sql.load("orders/find_idempotency_key")
RECORD_IDEMPOTENT_ERROR = sql.load("orders/record_idempotent_error")
STORE_IDEMPOTENT_RESPONSE = sql.load("orders/store_idempotent_response")
PRUNE_IDEMPOTENCY_KEYS = sql.load("orders/prune_idempotency_keys")


def purchase(
    *,
    user_id,
    token_version: int,
    event_id,
    quantity: int,
    hold_seconds: int,
    ticket_type_id=None,
    idempotency_key=None,
    request_hash=None,
    queue_pass=None,
):
    """The new PENDING order with its tickets, or None when nothing could be sold (also
    when the account is gone or no longer at `token_version`: the token is revoked).

    With an idempotency key, the key is claimed by the same statement; a key that is
    already claimed raises psycopg2.errors.UniqueViolation and nothing is sold.
    """
    return db.current().one(
        PURCHASE,
        user_id=user_id,
        token_version=token_version,
        event_id=event_id,
        quantity=quantity,
        hold_seconds=hold_seconds,
        ticket_type_id=ticket_type_id,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        queue_pass=queue_pass,
    )


def purchase_batch(*, event_id, hold_seconds: int, requests: list[dict]) -> list[dict | None]:
    """Sell `requests` (dicts with user_id, token_version, quantity, ticket_type_id,
    idempotency_key, request_hash, queue_pass) of one event in one statement: for each, in
    order, the new PENDING order as `purchase` returns it, or None when this statement did
    not sell it (run it through `purchase` for the exact answer). A key claimed meanwhile
    raises psycopg2.errors.UniqueViolation and nothing is sold."""
    rows = db.current().all(
        PURCHASE_BATCH,
        event_id=event_id,
        hold_seconds=hold_seconds,
        user_ids=[str(r["user_id"]) for r in requests],
        quantities=[r["quantity"] for r in requests],
        ticket_type_ids=[
            None if r.get("ticket_type_id") is None else str(r["ticket_type_id"]) for r in requests
        ],
        queue_passes=[r.get("queue_pass") for r in requests],
        idempotency_keys=[r.get("idempotency_key") for r in requests],
        request_hashes=[r.get("request_hash") for r in requests],
        token_versions=[r["token_version"] for r in requests],
    )
    orders = []
    for row in rows:
        del row["ord"]
        orders.append(row if row["id"] is not None else None)
    return orders


def why_not_sold(*, event_id, user_id, ticket_type_id=None, queue_pass=None) -> dict:
    """The buyer's token_version (None: no such account), the event's remaining,
    max_per_order, closed, sale_starts_at, not_started, max_per_user and queued (None: no
    such event), the buyer's held tickets for it, the ticket type's type_id, type_name,
    type_remaining and type_max_per_order (None: not one of the event's types), and the
    given pass as stored."""
    return db.current().one(
        WHY_NOT_SOLD, event_id=event_id, user_id=user_id, ticket_type_id=ticket_type_id, queue_pass=queue_pass
    )


def get(*, order_id) -> dict | None:
    return db.current().one(GET, ids=[order_id])


def get_many(*, order_ids: list) -> list[dict]:
    return db.current().all(GET, ids=order_ids)


def list_for_user(*, user_id, limit: int, offset: int) -> list[dict]:
    return db.current().all(LIST_FOR_USER, user_id=user_id, limit=limit, offset=offset)


def settle(*, order_id, status: str, reason: str | None) -> dict | None:
    """Apply PAID/REJECTED to a PENDING order; None if it was not PENDING (or missing)."""
    return db.current().one(SETTLE, order_id=order_id, status=status, reason=reason)


def pay_after_expiry(*, order_id, reason: str | None) -> dict | None:
    """PAID for an EXPIRED order: `honoured` is True if the tickets could be re-reserved."""
    return db.current().one(PAY_AFTER_EXPIRY, order_id=order_id, reason=reason)


def cancel(*, order_id, user_id) -> dict | None:
    """Cancel the caller's PENDING order; None if not theirs or not PENDING."""
    return db.current().one(CANCEL, order_id=order_id, user_id=user_id)


def lock(*, order_id) -> dict | None:
    """The order, locked FOR UPDATE until the transaction ends; None if there is none."""
    return db.current().one(LOCK, id=order_id)


def lock_tickets(*, order_id) -> list[dict]:
    """The order's tickets (id, status), locked FOR UPDATE until the transaction ends."""
    return db.current().all(LOCK_TICKETS, order_id=order_id)


def refund(*, order_id, reason: str | None) -> dict | None:
    """PAID -> REFUNDED with tickets, capacity and payment; None if it was not PAID."""
    return db.current().one(REFUND, order_id=order_id, reason=reason)


def expire_due(*, batch_size: int = 500) -> dict:
    return db.current().one(EXPIRE_DUE, batch_size=batch_size)


def find_idempotency_key(*, user_id, key: str) -> dict | None:
    return db.current().one(FIND_IDEMPOTENCY_KEY, user_id=user_id, key=key)


def record_idempotent_error(
    *, user_id, key: str, request_hash: str, response_status: int, response_body: str
) -> bool:
    """Store the problem a keyed purchase got (JSON); False if another request already
    owns the key."""
    row = db.current().one(
        RECORD_IDEMPOTENT_ERROR,
        user_id=user_id,
        key=key,
        request_hash=request_hash,
        response_status=response_status,
        response_body=response_body,
    )
    return row is not None


def store_idempotent_response(
    *, user_id, key: str, order_id, response_status: int, response_body: str
) -> None:
    """Store the order a keyed purchase sold (JSON), for replays."""
    db.current().execute(
        STORE_IDEMPOTENT_RESPONSE,
        user_id=user_id,
        key=key,
        order_id=order_id,
        response_status=response_status,
        response_body=response_body,
    )


def prune_idempotency_keys(*, retention_seconds: int) -> int:
    return db.current().execute(PRUNE_IDEMPOTENCY_KEYS, retention_seconds=retention_seconds)
