from marshmallow import ValidationError, fields, validate, validates, validates_schema

from ticketing.api import Schema, UtcDateTime
from ticketing.outbox.service import EVENT_TYPES

URL_DOC = {
    "description": "http(s); loopback and private targets are refused unless WEBHOOK_ALLOW_PRIVATE_TARGETS",
    "example": "https://tickets.example.com/hooks/ticketing",
}
EVENTS_DOC = {
    "description": "The event types to send here, each once",
    "example": ["order.paid", "order.refunded"],
    "uniqueItems": True,
}


def _url():
    return fields.Url(
        schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=2048), metadata=URL_DOC
    )


def _events():
    return fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)),
        validate=validate.Length(1, len(EVENT_TYPES)),
        metadata=EVENTS_DOC,
    )


class EndpointIn(Schema):
    url = _url()
    events = _events()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.fields["url"].required = True
        self.fields["events"].required = True

    @validates("events")
    def _distinct(self, value, **kwargs):
        if len(set(value)) != len(value):
            raise ValidationError("List each event type once.")


class EndpointPatch(Schema):
    JSON_SCHEMA = {"minProperties": 1}

    url = _url()
    events = _events()
    disabled = fields.Boolean(
        truthy={True},
        falsy={False},
        metadata={"description": "true stops deliveries (they wait); false resumes them"},
    )

    @validates("events")
    def _distinct(self, value, **kwargs):
        if len(set(value)) != len(value):
            raise ValidationError("List each event type once.")

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Send at least one field to change.")


class EndpointOut(Schema):
    id = fields.UUID(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(validate=validate.OneOf(EVENT_TYPES)), required=True)
    created_at = UtcDateTime(required=True)
    disabled_at = UtcDateTime(required=True, allow_none=True)


class EndpointCreatedOut(EndpointOut):
    secret = fields.String(
        required=True,
        metadata={
            "description": "Signs every delivery (`Webhook-Signature`, as docs/webhooks.md shows). "
            "Shown in this response only: store it now."
        },
    )


class DeliveryOut(Schema):
    id = fields.UUID(required=True)
    event_id = fields.UUID(required=True, metadata={"description": "The body's `id` and `Webhook-Id`"})
    type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    subject_id = fields.UUID(
        required=True, metadata={"description": "The order, ticket or event it is about"}
    )
    attempts = fields.Integer(required=True)
    last_status = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The receiver's last HTTP status; null: no answer"},
    )
    last_error = fields.String(required=True, allow_none=True)
    next_attempt_at = UtcDateTime(
        required=True, allow_none=True, metadata={"description": "null once delivered or failed"}
    )
    delivered_at = UtcDateTime(required=True, allow_none=True)
    failed_at = UtcDateTime(
        required=True,
        allow_none=True,
        metadata={"description": "Set when WEBHOOK_RETRY_HOURS of retries ran out"},
    )
    created_at = UtcDateTime(required=True)
