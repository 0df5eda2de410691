import marshmallow as ma
from flask import request
from marshmallow import fields, validate

from ticketing.api import API_PREFIX, Money, Schema, UtcDateTime
from ticketing.config import CURRENCY_PATTERN


def order_location(order_id) -> str:
    """The Location of an order (formatted here: url_for costs ~3% of a purchase's CPU)."""
    return f"{request.script_root}{API_PREFIX}/orders/{order_id}"


MONEY_DOC = {"type": "string", "format": "decimal", "example": "100.00"}
HOLDER_DOC = {"description": "Who holds the ticket: the buyer, or whom it was transferred to"}
CODE_DOC = {
    "description": "The signed code that opens the door (at most 160 URL-safe characters, for a QR code). "
    "Shown to the ticket's holder, staff and admins once the order is PAID; null otherwise "
    "(an unpaid hold, a cancelled ticket, a ticket the buyer gave away). See docs/tickets.md.",
    "maxLength": 160,
    "pattern": "^[A-Za-z0-9_-]+$",
}
STATUSES = ["PENDING", "PAID", "REJECTED", "EXPIRED", "CANCELLED", "REFUNDED"]


class PurchaseIn(Schema):
    event_id = fields.UUID(required=True, metadata={"example": "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"})
    quantity = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "1 to the event's and the ticket type's `max_per_order`", "example": 2},
    )
    ticket_type_id = fields.UUID(
        load_default=None,
        metadata={
            "description": "One of the event's `ticket_types`; omitted or null: the event's first type "
            "(docs/ticket-types.md). Another event's type: 404.",
        },
    )


class OrderTicketOut(Schema):
    id = fields.UUID(required=True)
    price = Money(required=True, metadata=MONEY_DOC)
    status = fields.String(required=True, validate=validate.OneOf(["VALID", "USED", "CANCELLED"]))
    checked_in_at = UtcDateTime(required=True, allow_none=True)
    holder_id = fields.UUID(required=True, metadata=HOLDER_DOC)
    code = fields.String(required=True, allow_none=True, metadata=CODE_DOC)


class EventSummaryOut(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    date = UtcDateTime(required=True)


class OrderOut(Schema):
    id = fields.UUID(required=True)
    event_id = fields.UUID(required=True)
    user_id = fields.UUID(required=True)
    ticket_type_id = fields.UUID(required=True, metadata={"description": "The ticket type bought"})
    ticket_type_name = fields.String(required=True, metadata={"example": "General"})
    quantity = fields.Integer(required=True)
    unit_price = Money(required=True, metadata=MONEY_DOC)
    total_amount = Money(required=True, metadata=MONEY_DOC)
    currency = fields.String(
        required=True,
        metadata={"description": "ISO 4217, the event's when the order was placed", "example": "BRL"},
    )
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    reason = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The payment provider's note, or why the order was refunded"},
    )
    expires_at = UtcDateTime(
        required=True, metadata={"description": "When a PENDING order's hold on its tickets ends"}
    )
    late_payment_at = UtcDateTime(
        required=True,
        allow_none=True,
        metadata={
            "description": "When a payment arrived after the hold expired (see `payment-after-expiry`)"
        },
    )
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    event = fields.Nested(EventSummaryOut, required=True)
    tickets = fields.List(fields.Nested(OrderTicketOut), required=True)


CURRENCY = validate.Regexp(CURRENCY_PATTERN, error="Must be an ISO 4217 code: three capital letters.")


class SettleIn(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["PAID", "REJECTED"]))
    reason = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"example": "card declined"},
    )
    payment_id = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[\x21-\x7e]{1,255}$", error="Must be 1 to 255 visible ASCII characters."),
        metadata={
            "description": "The provider's id of the payment: a delivery repeating it gets the first "
            "answer again; naming another order with it is 409 `payment-id-reused`",
            "example": "pay_3f9a1c5e",
        },
    )
    amount = Money(  # absent: not said (Verdict's default); an explicit null is a mistake (422)
        metadata={
            **Money.INPUT_DOC,
            "description": "What the provider took; must equal the order's `total_amount` (else 409 "
            "`amount-mismatch`)",
        },
    )
    currency = fields.String(
        load_default=None,
        validate=CURRENCY,
        metadata={"description": "ISO 4217; must be the order's `currency`", "example": "BRL"},
    )


class RefundIn(Schema):
    reason = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"example": "the show was moved and the buyer cannot come"},
    )


class PurchaseHeaders(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # every other header

    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        load_default=None,
        validate=validate.Regexp(r"^[\x21-\x7e]{1,255}$", error="Must be 1 to 255 visible ASCII characters."),
        metadata={
            "description": "Makes retries safe: the same key with the same body replays the first answer "
            "(`Idempotent-Replayed: true`) and buys nothing. Keys are per user and kept 24 hours.",
            "example": "3f9a1c5e-retry-1",
        },
    )
    queue_pass = fields.String(
        data_key="Queue-Pass",
        load_default=None,
        metadata={
            "description": "Required for an event with a waiting room (`queue`): the `pass` of your "
            "admitted entry (`POST /events/{event_id}/queue`). A successful purchase uses it.",
        },
    )


_ORDER_OUT = OrderOut()
_ORDER_KEYS = frozenset(OrderOut._declared_fields)
_EVENT_KEYS = frozenset(EventSummaryOut._declared_fields)
_TICKET_KEYS = frozenset(OrderTicketOut._declared_fields)


def order_out(order: dict) -> dict:
    """OrderOut().dump(order), written out for the purchase lane (ticketing/orders/fastlane.py):
    marshmallow's per-field machinery was about a tenth of a purchase's Python. Anything but
    a whole order (a key missing, no event) goes through OrderOut itself;
    tests/test_orders_fastlane.py keeps the two equal."""
    event, tickets = order.get("event"), order.get("tickets")
    if (
        not _ORDER_KEYS <= order.keys()
        or type(event) is not dict
        or not _EVENT_KEYS <= event.keys()
        or not (tickets is None or (type(tickets) is list and all(_TICKET_KEYS <= t.keys() for t in tickets)))
    ):
        return _ORDER_OUT.dump(order)
    return {
        "id": _text(order["id"]),
        "event_id": _text(order["event_id"]),
        "user_id": _text(order["user_id"]),
        "ticket_type_id": _text(order["ticket_type_id"]),
        "ticket_type_name": _text(order["ticket_type_name"]),
        "quantity": None if order["quantity"] is None else int(order["quantity"]),
        "unit_price": _money(order["unit_price"]),
        "total_amount": _money(order["total_amount"]),
        "currency": _text(order["currency"]),
        "status": _text(order["status"]),
        "reason": _text(order["reason"]),
        "expires_at": _time(order["expires_at"]),
        "late_payment_at": _time(order["late_payment_at"]),
        "created_at": _time(order["created_at"]),
        "updated_at": _time(order["updated_at"]),
        "event": {"id": _text(event["id"]), "name": _text(event["name"]), "date": _time(event["date"])},
        "tickets": None
        if tickets is None
        else [
            {
                "id": _text(t["id"]),
                "price": _money(t["price"]),
                "status": _text(t["status"]),
                "checked_in_at": _time(t["checked_in_at"]),
                "holder_id": _text(t["holder_id"]),
                "code": _text(t["code"]),
            }
            for t in tickets
        ],
    }


def _text(value):  # fields.String and fields.UUID
    return None if value is None else str(value)


_money_field, _time_field = Money(), UtcDateTime()


def _money(value):
    return _money_field._serialize(value, None, None)


def _time(value):
    return _time_field._serialize(value, None, None)
