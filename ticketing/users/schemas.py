from marshmallow import ValidationError, fields, validate, validates_schema

from ticketing.api import Schema, Trimmed, UtcDateTime
from ticketing.security import ROLES


def password_bytes(value: str) -> None:
    size = len(value.encode("utf-8"))
    if not 8 <= size <= 72:
        raise ValidationError("Must be 8 to 72 bytes of UTF-8.")


def name_field(**kwargs):
    return Trimmed(validate=validate.Length(1, 100), metadata={"example": "Ana Souza"}, **kwargs)


def email_field(**kwargs):
    return Trimmed(
        validate=[validate.Length(3, 254), validate.Email()],
        metadata={"format": "email", "example": "ana@example.com"},
        **kwargs,
    )


def password_field(**kwargs):
    return fields.String(
        validate=password_bytes,
        load_only=True,
        metadata={
            "format": "password",
            "example": "correct horse battery",
            "description": "8 to 72 bytes of UTF-8 (bcrypt's limit): 8 to 72 ASCII characters, "
            "fewer when some take several bytes",
            # What the byte limits imply for characters (1 to 4 bytes each).
            "minLength": 2,
            "maxLength": 72,
        },
        **kwargs,
    )


class SignupIn(Schema):
    name = name_field(required=True)
    email = email_field(required=True)
    password = password_field(required=True)


class LoginIn(Schema):
    email = Trimmed(required=True, validate=validate.Length(1, 254), metadata={"example": "ana@example.com"})
    password = fields.String(
        required=True,
        validate=validate.Length(1, 1024),
        load_only=True,
        metadata={"format": "password", "example": "correct horse battery"},
    )


class UserOut(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True, metadata={"example": "Ana Souza"})
    email = fields.String(required=True, metadata={"example": "ana@example.com"})
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    created_at = UtcDateTime(required=True)


class TokenOut(Schema):
    token = fields.String(required=True, metadata={"example": "eyJhbGciOiJIUzI1NiJ9..."})
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds", "example": 3600})


class _AtLeastOneChange(Schema):
    CHANGES: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.JSON_SCHEMA = {"anyOf": [{"required": [name]} for name in cls.CHANGES]}

    @validates_schema
    def _something_to_change(self, data, **kwargs):
        if not any(field in data for field in self.CHANGES):
            raise ValidationError(f"Nothing to change: send at least one of {', '.join(self.CHANGES)}.")


class MeUpdateIn(_AtLeastOneChange):
    CHANGES = ("name", "email", "password")

    name = name_field()
    email = email_field()
    password = password_field()
    current_password = fields.String(
        validate=validate.Length(1, 1024),
        load_only=True,
        metadata={"format": "password", "description": "Required to change `email` or `password`"},
    )


class AdminUserUpdateIn(_AtLeastOneChange):
    CHANGES = ("name", "email", "role")

    name = name_field()
    email = email_field()
    role = fields.String(
        validate=validate.OneOf(ROLES),
        metadata={
            "example": "staff",
            "description": "`user`, `staff` (door staff: read any ticket and check tickets in) or `admin`",
        },
    )


class UserListArgs(Schema):
    role = fields.String(
        validate=validate.OneOf(ROLES), metadata={"description": "Only accounts with this role"}
    )
    email = Trimmed(
        validate=validate.Length(1, 254),
        metadata={
            "description": "Only emails containing this text (case-insensitive; `%` and `_` are literal)"
        },
    )
