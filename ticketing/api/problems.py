"""The RFC 9457 problem details schema, and examples of it for the OpenAPI document."""

from __future__ import annotations

import marshmallow as ma

from ticketing.errors import Kind


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


def problem_example(kind: Kind, detail: str | None = None, **extra) -> dict:
    body = {"type": kind.uri, "title": kind.title, "status": kind.status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return body
