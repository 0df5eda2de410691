"""The payment provider's verdicts, and the ledger of the money it took.

A delivery is decided in ONE transaction, on the order locked FOR UPDATE (deliveries and
refunds of one order queue there): the delivery is recorded with its answer, the order
changes (orders/settle, orders/pay_after_expiry), the payment enters the ledger and the
outgoing event is recorded, or none of it. Money is never forgotten: a PAID that cannot be
honoured still answers 409 as before, and its payment is recorded `refund_due`.
See docs/payments.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from ticketing import db
from ticketing.errors import (
    AMOUNT_MISMATCH,
    INVALID_TRANSITION,
    PAYMENT_AFTER_EXPIRY,
    PAYMENT_ID_REUSED,
    ApiError,
    NotFound,
)
from ticketing.orders import repository as orders
from ticketing.outbox import service as outbox
from ticketing.payments import repository

NO_ORDER = "No order with this id"
NO_PAYMENT = "No payment with this id"


@dataclass(frozen=True)
class Verdict:
    """A delivery of the payment webhook."""

    status: str  # PAID | REJECTED
    reason: str | None = None
    payment_id: str | None = None
    amount: Decimal | None = None
    currency: str | None = None


def settle(order_id, verdict: Verdict) -> None:
    """Apply the provider's verdict; raises the problem to answer (after the delivery and
    any payment are committed). Safe to repeat: with a `payment_id`, a repeat gets the
    first answer again; without one, a verdict that is already the order's state, or that
    no longer matters, changes nothing."""
    with db.current().transaction():
        order = orders.lock(order_id=order_id)
        if order is None:
            raise NotFound(NO_ORDER)
        delivery = repository.claim_delivery(
            order_id=order_id,
            payment_id=verdict.payment_id,
            status=verdict.status,
            amount=verdict.amount,
            currency=verdict.currency,
            reason=verdict.reason,
        )
        if delivery is None:
            error = _repeat(order, verdict.payment_id)
        else:
            error = _decide(order, verdict)
            repository.answer_delivery(
                delivery_id=delivery["id"],
                response_status=error.status if error else 204,
                response_body=json.dumps(error.body()) if error else None,
            )
    if error is not None:
        raise error


def _repeat(order: dict, payment_id: str) -> ApiError | None:
    """A payment id seen before: the first delivery's answer, if it was for this order."""
    first = repository.first_delivery(payment_id=payment_id)
    if first["order_id"] != order["id"]:
        return ApiError(
            f"The payment id {payment_id!r} was already used for another order", kind=PAYMENT_ID_REUSED
        )
    if first["response_status"] >= 400:
        return ApiError.from_body(first["response_body"])
    return None


def _decide(order: dict, verdict: Verdict) -> ApiError | None:
    """Change the (locked) order as the verdict asks; the problem to answer, or None."""
    amount = order["total_amount"] if verdict.amount is None else verdict.amount
    currency = verdict.currency or order["currency"]
    current = order["status"]

    def refund_due(detail: str, kind=INVALID_TRANSITION, **extra) -> ApiError:
        repository.record(
            order_id=order["id"],
            payment_id=verdict.payment_id,
            amount=amount,
            currency=currency,
            state="refund_due",
        )
        return ApiError(f"{detail}; the payment is recorded as refund_due", kind=kind, **extra)

    if amount != order["total_amount"] or currency != order["currency"]:
        detail = (
            f"The order is {order['total_amount']:.2f} {order['currency']},"
            f" the payment {amount:.2f} {currency}; the order is unchanged"
        )
        expected = {"expected_amount": f"{order['total_amount']:.2f}", "expected_currency": order["currency"]}
        if verdict.status == "PAID":
            return refund_due(detail, kind=AMOUNT_MISMATCH, **expected)
        return ApiError(detail, kind=AMOUNT_MISMATCH, **expected)

    if verdict.status == "REJECTED":
        if current == "PENDING":
            orders.settle(order_id=order["id"], status="REJECTED", reason=verdict.reason)
            outbox.record(type="order.rejected", subject_id=order["id"])
            return None
        if current in ("REJECTED", "EXPIRED", "CANCELLED"):
            return None  # already over; a failed payment changes nothing
        return ApiError(f"The order is {current}; it cannot become REJECTED", kind=INVALID_TRANSITION)

    def captured() -> None:
        repository.record(
            order_id=order["id"],
            payment_id=verdict.payment_id,
            amount=amount,
            currency=currency,
            state="captured",
        )
        outbox.record(type="order.paid", subject_id=order["id"])

    if current == "PENDING":
        orders.settle(order_id=order["id"], status="PAID", reason=verdict.reason)
        captured()
        return None
    if current == "PAID":
        earlier = repository.captured_for_order(order_id=order["id"])
        if verdict.payment_id and earlier and all(p["payment_id"] is not None for p in earlier):
            return refund_due("The order was already paid by another payment")
        return None  # the same payment again (a retry without, or before, its id)
    if current == "EXPIRED":
        late = orders.pay_after_expiry(order_id=order["id"], reason=verdict.reason)
        if late["honoured"]:
            captured()
            return None
        return refund_due(
            "The hold expired and the tickets are no longer available", kind=PAYMENT_AFTER_EXPIRY
        )
    return refund_due(f"The order is {current}; it cannot become PAID")


def list_page(*, state: str | None, limit: int, offset: int) -> list[dict]:
    return repository.list_page(state=state, limit=limit, offset=offset)


def mark_refunded(payment_id) -> dict:
    """The provider paid a `refund_due` payment back. Repeating it is harmless."""
    payment = repository.mark_refunded(payment_id=payment_id)
    if payment is not None:
        return payment
    payment = repository.get(payment_id=payment_id)
    if payment is None:
        raise NotFound(NO_PAYMENT)
    if payment["state"] == "refunded":
        return payment
    raise ApiError(
        "The payment is captured (its order stands); refund the order first", kind=INVALID_TRANSITION
    )
