from ticketing import db, sql

PURCHASE = sql.load("orders/purchase")
WHY_NOT_SOLD = sql.load("orders/why_not_sold")
GET = sql.load("orders/get")
LIST_FOR_USER = sql.load("orders/list_for_user")
SETTLE = sql.load("orders/settle")
STATUS = sql.load("orders/status")
INVARIANT_VIOLATIONS = sql.load("orders/invariant_violations")


def purchase(user_id, event_id, quantity: int) -> dict | None:
    """The new PENDING order with its tickets, or None when nothing could be sold."""
    return db.current().one(PURCHASE, user_id=str(user_id), event_id=str(event_id), quantity=quantity)


def why_not_sold(event_id) -> dict | None:
    return db.current().one(WHY_NOT_SOLD, event_id=str(event_id))


def get(order_id) -> dict | None:
    return db.current().one(GET, id=str(order_id))


def list_for_user(user_id, limit: int, offset: int) -> list[dict]:
    return db.current().all(LIST_FOR_USER, user_id=str(user_id), limit=limit, offset=offset)


def settle(order_id, status: str, reason: str | None) -> dict | None:
    """Apply PAID/REJECTED to a PENDING order; None if it was not PENDING (or missing)."""
    return db.current().one(SETTLE, order_id=str(order_id), status=status, reason=reason)


def status_of(order_id) -> str | None:
    row = db.current().one(STATUS, id=str(order_id))
    return row and row["status"]
