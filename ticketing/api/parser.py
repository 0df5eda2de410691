"""Request bodies are JSON only: wrong content type 415, unparsable 400, floats as Decimal."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser

from ticketing import errors


class JsonBodyParser(FlaskParser):
    """JSON bodies only: wrong content type -> 415, unparsable -> 400, floats as Decimal."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._header_names: dict[int, tuple[str, ...]] = {}

    def named_headers_only(self, schema) -> None:
        """Load only the headers `schema` names when it parses a request's headers.

        webargs hands a headers schema every header of the request (a proxy over the WSGI
        environ), and the schema then drops those it does not know (webargs loads headers
        with unknown=EXCLUDE). Handing it only the headers it names gives the same result
        for less work on every request (the purchase's Idempotency-Key and Queue-Pass).
        Blueprint.arguments asks for it when it passes no `unknown` of its own."""
        names = []
        for name, field in schema.fields.items():
            if isinstance(field, (ma.fields.List, ma.fields.Tuple)):
                return  # several values: webargs' proxy gives such a field a list
            names.append(field.data_key or name)
        self._header_names[id(schema)] = tuple(names)

    def load_headers(self, req, schema):
        names = self._header_names.get(id(schema))
        if names is None or self.unknown != webargs_core._UNKNOWN_DEFAULT_PARAM:
            return super().load_headers(req, schema)
        headers = req.headers
        return {name: value for name in names if (value := headers.get(name)) is not None}

    def _raw_load_json(self, req):
        body = req.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
        if not webargs_core.is_json(req.mimetype):
            if not body and not req.mimetype:
                raise errors.BadRequest("A JSON request body is required")
            raise errors.ApiError(
                f"Send the body as application/json, not {req.mimetype or 'nothing'}",
                kind=errors.UNSUPPORTED_MEDIA_TYPE,
            )
        if not body:
            raise errors.BadRequest("A JSON request body is required")
        try:
            return current_app.json.loads(body)  # floats as Decimal: exact money
        except RecursionError:
            raise errors.BadRequest("The request body is nested too deeply") from None
