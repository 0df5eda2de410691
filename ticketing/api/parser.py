"""Request bodies are JSON only: wrong content type 415, unparsable 400, floats as Decimal."""

from __future__ import annotations

from flask import current_app
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser

from ticketing import errors


class JsonBodyParser(FlaskParser):
    """JSON bodies only: wrong content type -> 415, unparsable -> 400, floats as Decimal."""

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
