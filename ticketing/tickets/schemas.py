from marshmallow import fields, validate

from ticketing.api import Money, Schema, UtcDateTime
from ticketing.orders.schemas import MONEY_DOC, EventSummaryOut

TICKET_STATUSES = ["VALID", "USED", "CANCELLED"]


class CheckInOut(Schema):
    id = fields.UUID(required=True)
    order_id = fields.UUID(required=True)
    event_id = fields.UUID(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["USED"]))
    checked_in_at = UtcDateTime(required=True)


class TicketOut(Schema):
    id = fields.UUID(required=True)
    order_id = fields.UUID(required=True)
    event_id = fields.UUID(required=True)
    price = Money(required=True, metadata=MONEY_DOC)
    status = fields.String(required=True, validate=validate.OneOf(TICKET_STATUSES))
    checked_in_at = UtcDateTime(
        required=True, allow_none=True, metadata={"description": "When it was checked in (USED only)"}
    )
    event = fields.Nested(EventSummaryOut, required=True)


class EventStatsOut(Schema):
    event_id = fields.UUID(required=True)
    capacity = fields.Integer(required=True)
    remaining = fields.Integer(required=True, metadata={"description": "Tickets still for sale"})
    sold = fields.Integer(
        required=True,
        metadata={"description": "Tickets held by PENDING and PAID orders (capacity - remaining)"},
    )
    pending = fields.Integer(required=True, metadata={"description": "Tickets of PENDING orders"})
    paid = fields.Integer(required=True, metadata={"description": "Tickets of PAID orders"})
    checked_in = fields.Integer(required=True, metadata={"description": "Tickets used at the door"})
    cancelled = fields.Integer(
        required=True, metadata={"description": "Tickets of rejected, expired, cancelled or refunded orders"}
    )
