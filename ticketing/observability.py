"""One JSON line per request on stdout, and the X-Request-ID that ties lines together."""

from __future__ import annotations

import re
import sys
import time
import uuid

import orjson
from flask import g, request

_VALID_REQUEST_ID = re.compile(r"^[\x21-\x7e]{1,128}$")


def register(app):
    @app.before_request
    def _start():
        g.started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def _log(response):
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Request-ID"] = request_id
        started = g.get("started")
        principal = g.get("principal")
        line = {
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
            "request_id": request_id,
            # The client's address: behind the front door, the one nginx saw (ProxyFix).
            "remote_addr": request.remote_addr,
        }
        if principal is not None:
            line["user_id"] = principal.id
        sys.stdout.write(orjson.dumps(line).decode() + "\n")
        sys.stdout.flush()
        return response
