"""flask-smorest customised once: problem+json errors, strict JSON bodies, auth docs."""

from __future__ import annotations

import http
import re
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from functools import wraps

import marshmallow as ma
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from flask import current_app
from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint
from flask_smorest.pagination import PaginationMetadataSchema
from flask_smorest.utils import prepare_response
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser

from ticketing import errors, security
from ticketing.errors import PROBLEM_CONTENT_TYPE, PROBLEMS

# ---------------------------------------------------------------- schemas and fields


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
            text = value
        elif isinstance(value, Decimal):
            text = format(value, "f")
        else:
            text = str(value)
        if not _MONEY.fullmatch(text):
            raise self.make_error("invalid")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise self.make_error("invalid") from None
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


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details. Some problem types add members (see the catalogue)."""

    class Meta:
        unknown = ma.INCLUDE

    type = ma.fields.String(required=True, metadata={"example": "/problems/not-found"})
    title = ma.fields.String(required=True, metadata={"example": "Not found"})
    status = ma.fields.Integer(required=True, metadata={"example": 404})
    detail = ma.fields.String(metadata={"example": "No event with this id"})
    instance = ma.fields.String(metadata={"example": "/api/v1/events/0b5c..."})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        metadata={"description": "422 only: messages per invalid field (nested for nested fields)"},
    )


# ---------------------------------------------------------------- request parsing


class JsonBodyParser(FlaskParser):
    """JSON bodies only: wrong content type -> 415, unparsable -> 400, floats as Decimal."""

    def _raw_load_json(self, req):
        body = req.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
        if not webargs_core.is_json(req.mimetype):
            if not body and not req.mimetype:
                raise errors.BadRequest("A JSON request body is required")
            raise errors.ApiError(
                f"Send the body as application/json, not {req.mimetype or 'nothing'}",
                kind="unsupported-media-type",
            )
        if not body:
            raise errors.BadRequest("A JSON request body is required")
        try:
            return current_app.json.loads(body)  # floats as Decimal: exact money
        except RecursionError:
            raise errors.BadRequest("The request body is nested too deeply") from None


# ---------------------------------------------------------------- Api and Blueprint


class _Converter(OpenAPIConverter):
    def schema2jsonschema(self, schema):
        return {**super().schema2jsonschema(schema), **getattr(schema, "JSON_SCHEMA", {})}


class _MarshmallowPlugin(MarshmallowPlugin):
    Converter = _Converter


class Api(_Api):
    def _init_spec(self, **kwargs):
        kwargs["marshmallow_plugin"] = kwargs.get("marshmallow_plugin") or _MarshmallowPlugin()
        super()._init_spec(**kwargs)

    def _register_pagination_header(self):
        # X-Pagination is JSON text; OpenAPI says so with `content`. A bare `schema: object`
        # would mean the `simple` style instead: "total,3,page,1".
        header = {
            "description": "Pagination metadata, as JSON",
            "content": {"application/json": {"schema": PaginationMetadataSchema}},
        }
        self.spec.components.header("PAGINATION", header, lazy=True)

    def _register_responses(self):
        # The components flask-smorest references (422 from @arguments, "default", ...)
        # are problem+json, because that is what every error really is.
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = ProblemSchema
                prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Error (problem details)", "schema": ProblemSchema}
        prepare_response(default, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)

    def handle_http_exception(self, error):
        return errors.handle_http_exception(error)


def problem_example(kind: str, detail: str | None = None, **extra) -> dict:
    status, title = PROBLEMS[kind]
    body = {"type": f"/problems/{kind}", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return body


class Blueprint(_Blueprint):
    ARGUMENTS_PARSER = JsonBodyParser()

    def arguments(self, schema, **kwargs):
        # webargs builds a new instance of a schema *class* on every request: build it once.
        return super().arguments(schema() if isinstance(schema, type) else schema, **kwargs)

    def problems(self, *kinds: str):
        """Document the problem types a route can answer, grouped by status."""
        by_status: dict[int, list[str]] = {}
        for kind in kinds:
            by_status.setdefault(PROBLEMS[kind][0], []).append(kind)

        def decorator(func):
            for status, group in by_status.items():
                examples = {k: {"value": problem_example(k)} for k in group}
                func = self.alt_response(
                    status,
                    schema=ProblemSchema,
                    content_type=PROBLEM_CONTENT_TYPE,
                    description=" or ".join(PROBLEMS[k][1] for k in group)
                    + " ("
                    + ", ".join(f"`/problems/{k}`" for k in group)
                    + ")",
                    examples=examples,
                )(func)
            return func

        return decorator

    def guard(self, check, kinds, security_requirement):
        """Run `check()` before the body is parsed, and document its errors and scheme."""

        def decorator(func):
            @wraps(func)
            def wrapper(*args, **kwargs):
                check()
                return func(*args, **kwargs)

            wrapper = self.problems(*kinds)(wrapper)
            return self.doc(security=[security_requirement])(wrapper)

        return decorator

    def auth(self, role: str | None = None, revocation_in_sql: bool = False):
        """Require a valid, unrevoked bearer token (and a role); documents 401/403 on the route.

        Revocation (and the role) are checked against the database before the view, with
        one small query. `revocation_in_sql=True` skips that query: the view's own SQL
        statement must check the token version instead (the purchase, a hot path, does).
        """
        if role and revocation_in_sql:
            raise ValueError("a role check needs the role from the database; keep the lookup")
        kinds = ["unauthorized"] + (["forbidden"] if role else [])
        return self.guard(lambda: security.authenticate(role, revocation_in_sql), kinds, {"bearerAuth": []})


# ---------------------------------------------------------------- pagination


# The `list` SQL files take OFFSET as a PostgreSQL integer. No table holds that many rows,
# so any page past it is empty, like every page past the last one.
MAX_OFFSET = 2**31 - 1


def page_window(pagination_parameters) -> dict:
    """LIMIT/OFFSET parameters for the `list` SQL files."""
    return {
        "limit": pagination_parameters.page_size,
        "offset": min(pagination_parameters.first_item, MAX_OFFSET),
    }


def page_items(rows: list[dict], pagination_parameters) -> list[dict]:
    """Rows of a `list` SQL file: every row carries `total`; an empty page is one null row."""
    pagination_parameters.item_count = rows[0]["total"] if rows else 0
    return [row for row in rows if row["id"] is not None]
