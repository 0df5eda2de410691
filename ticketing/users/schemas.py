from marshmallow import ValidationError, fields, validate

from ticketing.api import Schema, Trimmed, UtcDateTime


def password_bytes(value: str) -> None:
    size = len(value.encode("utf-8"))
    if not 8 <= size <= 72:
        raise ValidationError("Must be 8 to 72 bytes of UTF-8.")


class SignupIn(Schema):
    name = Trimmed(required=True, validate=validate.Length(1, 100), metadata={"example": "Ana Souza"})
    email = Trimmed(
        required=True,
        validate=[validate.Length(3, 254), validate.Email()],
        metadata={"format": "email", "example": "ana@example.com"},
    )
    password = fields.String(
        required=True,
        validate=password_bytes,
        load_only=True,
        metadata={"format": "password", "example": "correct horse battery", "minLength": 8, "maxLength": 72},
    )


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
    role = fields.String(required=True, validate=validate.OneOf(["user", "admin"]))
    created_at = UtcDateTime(required=True)


class TokenOut(Schema):
    token = fields.String(required=True, metadata={"example": "eyJhbGciOiJIUzI1NiJ9..."})
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds", "example": 3600})
