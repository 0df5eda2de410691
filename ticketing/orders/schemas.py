from marshmallow import fields, validate

from ticketing.api import Money, Schema, UtcDateTime

MONEY_DOC = {"type": "string", "format": "decimal", "example": "100.00"}
STATUSES = ["PENDING", "PAID", "REJECTED"]


class PurchaseIn(Schema):
    event_id = fields.UUID(required=True, metadata={"example": "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"})
    quantity = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "1 to the event's `max_per_order`", "example": 2},
    )


class OrderTicketOut(Schema):
    id = fields.UUID(required=True)
    price = Money(required=True, metadata=MONEY_DOC)
    status = fields.String(required=True, validate=validate.OneOf(["VALID", "USED", "CANCELLED"]))
    checked_in_at = UtcDateTime(required=True, allow_none=True)


class EventSummaryOut(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    date = UtcDateTime(required=True)


class OrderOut(Schema):
    id = fields.UUID(required=True)
    event_id = fields.UUID(required=True)
    user_id = fields.UUID(required=True)
    quantity = fields.Integer(required=True)
    unit_price = Money(required=True, metadata=MONEY_DOC)
    total_amount = Money(required=True, metadata=MONEY_DOC)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    reason = fields.String(required=True, allow_none=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    event = fields.Nested(EventSummaryOut, required=True)
    tickets = fields.List(fields.Nested(OrderTicketOut), required=True)


class SettleIn(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["PAID", "REJECTED"]))
    reason = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"example": "card declined"},
    )
