from marshmallow import fields, validate

from ticketing.api import Money, Schema, UtcDateTime

STATES = ["captured", "refund_due", "refunded"]
MONEY_DOC = {"type": "string", "format": "decimal", "example": "200.00"}


class PaymentOut(Schema):
    id = fields.UUID(required=True)
    order_id = fields.UUID(required=True)
    payment_id = fields.String(
        required=True, allow_none=True, metadata={"description": "The provider's id, if it sent one"}
    )
    amount = Money(required=True, metadata=MONEY_DOC)
    currency = fields.String(required=True, metadata={"example": "BRL"})
    state = fields.String(
        required=True,
        validate=validate.OneOf(STATES),
        metadata={
            "description": "`captured`: it pays its order; `refund_due`: it must go back to the buyer; "
            "`refunded`: it went back"
        },
    )
    received_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    refunded_at = UtcDateTime(required=True, allow_none=True)


class PaymentListArgs(Schema):
    state = fields.String(
        load_default=None,
        validate=validate.OneOf(STATES),
        metadata={"description": "Only payments in this state"},
    )
