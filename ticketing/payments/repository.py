from ticketing import db, sql

CLAIM_DELIVERY = sql.load("payments/claim_delivery")
FIRST_DELIVERY = sql.load("payments/first_delivery")
ANSWER_DELIVERY = sql.load("payments/answer_delivery")
RECORD = sql.load("payments/record")
CAPTURED_FOR_ORDER = sql.load("payments/captured_for_order")
LIST = sql.load("payments/list")
GET = sql.load("payments/get")
MARK_REFUNDED = sql.load("payments/mark_refunded")


def claim_delivery(*, order_id, payment_id, status, amount, currency, reason) -> dict | None:
    """Record a delivery; None if its payment id was already claimed (by any order)."""
    return db.current().one(
        CLAIM_DELIVERY,
        order_id=order_id,
        payment_id=payment_id,
        status=status,
        amount=amount,
        currency=currency,
        reason=reason,
    )


def first_delivery(*, payment_id: str) -> dict | None:
    return db.current().one(FIRST_DELIVERY, payment_id=payment_id)


def answer_delivery(*, delivery_id, response_status: int, response_body: str | None) -> None:
    db.current().execute(
        ANSWER_DELIVERY, id=delivery_id, response_status=response_status, response_body=response_body
    )


def record(*, order_id, payment_id, amount, currency: str, state: str) -> dict:
    return db.current().one(
        RECORD, order_id=order_id, payment_id=payment_id, amount=amount, currency=currency, state=state
    )


def captured_for_order(*, order_id) -> list[dict]:
    return db.current().all(CAPTURED_FOR_ORDER, order_id=order_id)


def list_page(*, state: str | None, limit: int, offset: int) -> list[dict]:
    return db.current().all(LIST, state=state, limit=limit, offset=offset)


def get(*, payment_id) -> dict | None:
    return db.current().one(GET, id=payment_id)


def mark_refunded(*, payment_id) -> dict | None:
    """refund_due -> refunded; None if unknown or not refund_due."""
    return db.current().one(MARK_REFUNDED, id=payment_id)
