from datetime import datetime, timezone

from marshmallow import ValidationError, fields, post_dump, validate, validates, validates_schema

from ticketing.api import Money, Schema, Trimmed, UtcDateTime
from ticketing.config import CURRENCY_PATTERN

EVENT_EXAMPLE = {
    "name": "Rock in Rio",
    "location": "Rio de Janeiro",
    "organization": "Live Nation",
    "rating": "Livre",
    "date": "2027-10-10T00:00:00Z",
    "capacity": 100000,
    "price": 100.0,
    "image_url": "http://example.com/image.jpg",
    "description": "The biggest music festival in Latin America",
}


class QueueSettings(Schema):
    admit_per_minute = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(1, 100_000),
        metadata={
            "description": "Waiting entries admitted per minute, spread evenly (docs/waiting-room.md)",
            "example": 600,
        },
    )
    pass_seconds = fields.Integer(
        load_default=300,
        strict=True,
        validate=validate.Range(30, 3600),
        metadata={"description": "How long an admitted entry's pass stays valid", "example": 300},
    )


MAX_TICKET_TYPES = 20
TYPES_DOC = (
    "The kinds of ticket sold (docs/ticket-types.md), first one first: 1 to 20, names unique. "
    "Omitted: one type, `General`, with the event's `price` and `capacity`. The event's `price` is "
    "its first type's; its `capacity` stays the venue's overall cap (type capacities may add up "
    "to more: a shared pool)."
)


class TicketTypeIn(Schema):
    name = Trimmed(required=True, validate=validate.Length(1, 100), metadata={"example": "VIP"})
    price = Money(required=True, metadata={**Money.INPUT_DOC, "description": ">= 0, at most two decimals"})
    capacity = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(0, 1_000_000),
        metadata={
            "description": "Tickets of this type, at most (the event's capacity still binds); 0 stops "
            "its sale"
        },
    )
    max_per_order = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(1, 100),
        metadata={
            "description": "Tickets of this type per order; omitted or null: the event's `max_per_order`"
        },
    )

    @validates("name")
    def _no_nul(self, value, **kwargs):
        if "\x00" in value:
            raise ValidationError("Must not contain NUL characters.")


class TicketTypePatch(TicketTypeIn):
    """Any field of a ticket type, at least one."""

    JSON_SCHEMA = {"minProperties": 1}

    def __init__(self, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(**kwargs)

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Send at least one field to change.")


class TicketTypeOut(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True, metadata={"example": "General"})
    price = Money(required=True, metadata={"type": "string", "format": "decimal", "example": "100.00"})
    capacity = fields.Integer(required=True)
    remaining = fields.Integer(required=True, metadata={"description": "Tickets of this type still for sale"})
    max_per_order = fields.Integer(required=True)


QUEUE_DOC = (
    "The waiting room, or null for none. With one, `POST /orders` needs a `Queue-Pass` from "
    "`POST /events/{event_id}/queue` (docs/waiting-room.md)."
)


class EventIn(Schema):
    # `price` is required unless `ticket_types` gives it (the first type's)
    JSON_SCHEMA = {"anyOf": [{"required": ["price"]}, {"required": ["ticket_types"]}]}

    name = Trimmed(required=True, validate=validate.Length(1, 200), metadata={"example": "Rock in Rio"})
    location = Trimmed(
        required=True, validate=validate.Length(1, 200), metadata={"example": "Rio de Janeiro"}
    )
    organization = Trimmed(
        required=True, validate=validate.Length(1, 200), metadata={"example": "Live Nation"}
    )
    rating = Trimmed(
        required=True,
        validate=validate.Length(1, 10),
        metadata={"description": "Age rating, e.g. `Livre`, `12+`, `18+`", "example": "Livre"},
    )
    date = UtcDateTime(required=True, metadata={"description": "When it starts; must be in the future"})
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(1, 1_000_000))
    price = Money(
        metadata={
            **Money.INPUT_DOC,
            "description": "A JSON number or a decimal string; >= 0, at most two decimals. Required "
            "unless `ticket_types` is given (then it may be omitted, or must equal the first type's "
            "price). On PATCH, the event's first ticket type's price follows it.",
        },
    )
    currency = fields.String(
        validate=validate.Regexp(CURRENCY_PATTERN, error="Must be an ISO 4217 code: three capital letters."),
        metadata={
            "description": "ISO 4217 code of `price`; defaults to DEFAULT_CURRENCY (BRL)",
            "example": "BRL",
        },
    )
    image_url = fields.Url(
        load_default=None,
        allow_none=True,
        schemes={"http", "https"},
        validate=validate.Length(max=2048),
        metadata={"example": "http://example.com/image.jpg"},
    )
    description = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))
    max_per_order = fields.Integer(
        strict=True,
        validate=validate.Range(1, 100),
        metadata={"description": "Tickets per order; defaults to MAX_TICKETS_PER_ORDER (10)"},
    )

    sale_starts_at = UtcDateTime(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "When tickets go on sale (before the event's `date`); null: on sale now. "
            "Before it, `POST /orders` answers 409 `sale-not-started`."
        },
    )
    max_per_user = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(1, 1_000_000),
        metadata={
            "description": "Most tickets one user may hold for the event across their PENDING and PAID "
            "orders; null: no limit. Beyond it, `POST /orders` answers 409 `per-user-limit`."
        },
    )
    queue = fields.Nested(
        QueueSettings,
        load_default=None,
        allow_none=True,
        metadata={"type": "object", "description": QUEUE_DOC},
    )
    ticket_types = fields.List(
        fields.Nested(TicketTypeIn),
        validate=validate.Length(1, MAX_TICKET_TYPES),
        metadata={"description": TYPES_DOC},
    )

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _price_and_types(self, data, original_data, **kwargs):
        types = data.get("ticket_types")
        if isinstance(original_data, dict) and "ticket_types" in original_data:
            if not types:
                return  # the list itself is invalid: its own errors say why
            names = [t.get("name") for t in types]
            if len(set(names)) != len(names):
                raise ValidationError("Ticket type names must be unique within the event.", "ticket_types")
            if "price" in data and "price" in types[0] and data["price"] != types[0]["price"]:
                raise ValidationError("Must equal the first ticket type's price (or be omitted).", "price")
        elif not self.partial and isinstance(original_data, dict) and "price" not in original_data:
            raise ValidationError("Missing data for required field.", "price")

    @validates_schema
    def _sale_starts_before_the_event(self, data, **kwargs):
        starts, date = data.get("sale_starts_at"), data.get("date")
        if starts is not None and date is not None and starts >= date:
            raise ValidationError("Must be before the event's date.", "sale_starts_at")

    @validates("queue")
    def _queue_complete(self, value, **kwargs):
        # A PATCH loads partially, nested fields included: the rate is still required.
        if value is not None and "admit_per_minute" not in value:
            raise ValidationError({"admit_per_minute": ["Missing data for required field."]})

    @validates("date")
    def _in_future(self, value, **kwargs):
        if value <= datetime.now(timezone.utc):
            raise ValidationError("Must be in the future.")

    @validates("name", "location", "organization", "rating", "image_url", "description")
    def _no_nul(self, value, **kwargs):
        if value is not None and "\x00" in value:  # PostgreSQL text cannot hold it
            raise ValidationError("Must not contain NUL characters.")


class EventPatch(EventIn):
    """Any field given at creation, at least one, validated exactly as at creation."""

    JSON_SCHEMA = {"minProperties": 1}

    def __init__(self, **kwargs):
        kwargs.setdefault("partial", True)
        kwargs.setdefault("exclude", ("ticket_types",))  # edited through /ticket-types
        super().__init__(**kwargs)

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Send at least one field to change.")


class EventOut(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    location = fields.String(required=True)
    organization = fields.String(required=True)
    rating = fields.String(required=True)
    date = UtcDateTime(required=True)
    capacity = fields.Integer(required=True)
    remaining = fields.Integer(required=True, metadata={"description": "Tickets still for sale"})
    price = Money(required=True, metadata={"type": "string", "format": "decimal", "example": "100.00"})
    currency = fields.String(required=True, metadata={"description": "ISO 4217", "example": "BRL"})
    image_url = fields.String(required=True, allow_none=True)
    description = fields.String(required=True, allow_none=True)
    max_per_order = fields.Integer(required=True)
    sale_starts_at = UtcDateTime(
        required=True, allow_none=True, metadata={"description": "When tickets go on sale; null: on sale now"}
    )
    max_per_user = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "Most tickets one user may hold for the event; null: no limit"},
    )
    queue = fields.Nested(
        QueueSettings, required=True, allow_none=True, metadata={"type": "object", "description": QUEUE_DOC}
    )
    ticket_types = fields.List(
        fields.Nested(TicketTypeOut),
        required=True,
        metadata={"description": "Its ticket types, first one first (the default of `POST /orders`)"},
    )
    created_by = fields.UUID(required=True)
    created_at = UtcDateTime(required=True)
    deleted_at = UtcDateTime(
        metadata={"description": "Only on deleted events, which only admins see (`include_deleted=true`)"}
    )

    @post_dump
    def _deleted_only(self, data, **kwargs):
        if data.get("deleted_at", False) is None:
            del data["deleted_at"]
        return data


class EventListArgs(Schema):
    include_past = fields.Boolean(
        load_default=False, metadata={"description": "Also list events that have started"}
    )
    include_deleted = fields.Boolean(
        load_default=False,
        metadata={"description": "Also list deleted events (admins only: anyone else gets 401/403)"},
    )
