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


QUEUE_DOC = (
    "The waiting room, or null for none. With one, `POST /orders` needs a `Queue-Pass` from "
    "`POST /events/{event_id}/queue` (docs/waiting-room.md)."
)


class EventIn(Schema):
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
        required=True,
        metadata={
            **Money.INPUT_DOC,
            "description": "A JSON number or a decimal string; >= 0, at most two decimals",
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
