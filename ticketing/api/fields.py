"""Schema and fields shared by every area: strict bodies, money, trimmed text, UTC times."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal

import marshmallow as ma


class Schema(ma.Schema):
    """Base schema: unknown fields are an error, never silently dropped.

    JSON_SCHEMA: JSON Schema keywords for rules across fields (e.g. `minProperties`), added to
    the schema in the OpenAPI document, so the document states every rule it can.
    """

    JSON_SCHEMA: dict = {}

    class Meta:
        unknown = ma.RAISE


MONEY_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
_MONEY = re.compile(MONEY_PATTERN)


class Money(ma.fields.Field):
    """A decimal amount with at most two places: "100.00" out; a JSON number or string in."""

    # What _deserialize accepts, for the OpenAPI document of an input field.
    INPUT_DOC = {
        "anyOf": [
            {"type": "string", "pattern": MONEY_PATTERN},
            {"type": "number", "minimum": 0, "maximum": 9999999999.99, "multipleOf": 0.01},
        ],
        "example": "100.00",
    }

    default_error_messages = {
        "invalid": "Must be a non-negative amount with at most two decimal places.",
        "too_large": "Must be less than 10,000,000,000.",
    }

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return f"{Decimal(value):.2f}"

    def _deserialize(self, value, attr, data, **kwargs):
        if value is True or value is False or not isinstance(value, (int, Decimal, str)):
            raise self.make_error("invalid")
        if isinstance(value, str):
            if not _MONEY.fullmatch(value):  # at most 13 characters get past this
                raise self.make_error("invalid")
            amount = Decimal(value)
        else:
            # A number is judged by its sign, digits and exponent, never by writing it out:
            # 1e999999999 as text would be a gigabyte.
            amount = Decimal(value)
            if not amount.is_finite() or amount.is_signed():
                raise self.make_error("invalid")
            if amount.as_tuple().exponent < -2:
                raise self.make_error("invalid")
        if amount >= Decimal("10000000000"):
            raise self.make_error("too_large")
        return amount.quantize(Decimal("0.01"))


class Trimmed(ma.fields.String):
    """A string with surrounding whitespace removed before validation.

    Its length limits hold for the text as sent too, as the OpenAPI document says.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        for validator in self.validators:
            if isinstance(validator, ma.validate.Length):
                validator(text)
        return text.strip()


class UtcDateTime(ma.fields.AwareDateTime):
    """RFC 3339 with an offset in; UTC with a `Z` out."""

    def __init__(self, **kwargs):
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            # In UTC: RFC 3339 allows offsets up to 23:59, PostgreSQL only up to 15:59.
            return moment.astimezone(timezone.utc)
        except OverflowError:  # e.g. 9999-12-31T23:00:00-14:00 is in the year 10000 in UTC
            raise ma.ValidationError("Must be between the years 1 and 9999 in UTC.") from None

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if isinstance(value, str):  # from a json_build_object() in SQL
            value = datetime.fromisoformat(value)
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
