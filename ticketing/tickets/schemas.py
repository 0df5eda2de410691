from marshmallow import fields, validate

from ticketing.api import Money, Schema, Trimmed, UtcDateTime
from ticketing.orders.schemas import CODE_DOC, HOLDER_DOC, MONEY_DOC, EventSummaryOut
from ticketing.tickets import codes

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
    ticket_type_id = fields.UUID(
        required=True, metadata={"description": "The ticket's type (docs/ticket-types.md)"}
    )
    ticket_type_name = fields.String(required=True, metadata={"example": "General"})
    price = Money(required=True, metadata=MONEY_DOC)
    status = fields.String(required=True, validate=validate.OneOf(TICKET_STATUSES))
    checked_in_at = UtcDateTime(
        required=True, allow_none=True, metadata={"description": "When it was checked in (USED only)"}
    )
    holder_id = fields.UUID(required=True, metadata=HOLDER_DOC)
    code = fields.String(required=True, allow_none=True, metadata=CODE_DOC)
    event = fields.Nested(EventSummaryOut, required=True)


class CheckInByCodeIn(Schema):
    code = fields.String(
        required=True,
        validate=validate.Length(1, 1000),
        metadata={
            "description": f"The ticket's `code`, as scanned ({codes.CODE_LENGTH} URL-safe characters)",
        },
    )
    event_id = fields.UUID(
        load_default=None,
        metadata={
            "description": "The event this door admits: a ticket of another event is then refused "
            "(409 `wrong-event`) instead of checked in. Recommended."
        },
    )


class PublicKeyOut(Schema):
    algorithm = fields.String(required=True, validate=validate.OneOf([codes.ALGORITHM]))
    public_key = fields.String(
        required=True,
        metadata={
            "description": "The raw 32-byte Ed25519 public key, standard base64 (docs/tickets.md)",
            "example": "Gb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=",
        },
    )


class RevokedCodeOut(Schema):
    ticket_id = fields.UUID(required=True)
    current_version = fields.Integer(
        required=True, metadata={"description": "The only version of this ticket's code still accepted"}
    )
    revoked_versions = fields.List(
        fields.Integer(),
        required=True,
        metadata={"description": "Every older version (1 to current_version - 1): refuse these"},
    )


class TransferIn(Schema):
    email = Trimmed(
        required=True,
        validate=[validate.Length(3, 254), validate.Email()],
        metadata={
            "description": "The recipient's account email (case-insensitive)",
            "format": "email",
            "example": "bia@example.com",
        },
    )


class TicketTypeStatsOut(Schema):
    ticket_type_id = fields.UUID(required=True)
    name = fields.String(required=True)
    capacity = fields.Integer(required=True)
    remaining = fields.Integer(required=True, metadata={"description": "Tickets of this type still for sale"})
    sold = fields.Integer(
        required=True,
        metadata={"description": "Its tickets held by PENDING and PAID orders (capacity - remaining)"},
    )
    pending = fields.Integer(required=True)
    paid = fields.Integer(required=True)
    checked_in = fields.Integer(required=True)
    cancelled = fields.Integer(required=True)


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
    ticket_types = fields.List(
        fields.Nested(TicketTypeStatsOut),
        required=True,
        metadata={"description": "The same counts per ticket type, first type first"},
    )
