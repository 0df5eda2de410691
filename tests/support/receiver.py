"""A real HTTP receiver for outgoing webhooks, in a thread of the test process: it records
every request and answers with the statuses it is told to (then 200). It can go down and
come back on the same port."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.servers import free_port
from ticketing import signatures


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers.get("Webhook-Id")

    def verifies(self, secret: str, tolerance: int = 300) -> bool:
        return (
            signatures.verify(self.headers.get("Webhook-Signature"), self.body, (secret,), tolerance) is None
        )


class Receiver:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.received: list[Received] = []
        self.answers: list[int] = []  # statuses to answer, in order; then 200
        self.lock = threading.Lock()
        self._server = None
        self._thread = None

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver

            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.received.append(Received(self.path, dict(self.headers), body))
                    status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

    def start(self) -> Receiver:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def ids(self) -> list[str]:
        with self.lock:
            return [r.webhook_id for r in self.received]

    def of_type(self, type_: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.json["type"] == type_]
