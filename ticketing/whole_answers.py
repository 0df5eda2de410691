"""gunicorn writes a response's headers and its body with two sendall() calls. A worker
killed between the two (SIGKILL, OOM) leaves nginx with a status line and headers it has
already passed on to the client, and no body: the client gets a broken answer instead of
the front door's 503. With threads (gthread) the window is wide: a batch's members write
their answers at the same moment, and the GIL switches between those two calls.

`install()` (gunicorn.conf.py, in the master before the fork) holds the headers back and
sends them in the same sendall() as the first body bytes, so a small answer reaches the
proxy whole or not at all. One system call fewer per response, too. Responses streamed
with sendfile (gunicorn's `sendfile` setting) send their headers at once, as before.
"""

from __future__ import annotations


class _Capture:
    """Stands in for the socket while gunicorn writes the headers: keeps the bytes."""

    def __init__(self):
        self.data = b""

    def sendall(self, data):
        self.data += data


class _Prefixed:
    """The socket, with the held headers sent in front of the first write."""

    def __init__(self, sock, prefix: bytes):
        self.sock = sock
        self.prefix = prefix

    def sendall(self, data):
        prefix, self.prefix = self.prefix, b""
        self.sock.sendall(prefix + data)

    def __getattr__(self, name):
        return getattr(self.sock, name)


def install() -> None:
    from gunicorn.http import wsgi

    response = wsgi.Response
    if getattr(response, "_whole_answers", False):
        return
    send_headers, write, close, sendfile = (
        response.send_headers,
        response.write,
        response.close,
        response.sendfile,
    )

    def held_send_headers(self):
        if self.headers_sent:
            return
        if getattr(self, "_send_now", False):
            return send_headers(self)
        sock, self.sock = self.sock, _Capture()
        try:
            send_headers(self)
        finally:
            captured, self.sock = self.sock, sock
        self._held = captured.data

    def flush(self):
        held = getattr(self, "_held", b"")
        if held:
            self._held = b""
            self.sock.sendall(held)

    def whole_write(self, arg):
        self.send_headers()
        held = getattr(self, "_held", b"")
        if not held or self.chunked:
            flush(self)
            return write(self, arg)
        self._held = b""
        sock = self.sock
        self.sock = prefixed = _Prefixed(sock, held)
        try:
            return write(self, arg)
        finally:
            self.sock = sock
            if prefixed.prefix:  # write() sent nothing (no body allowed, or length reached)
                sock.sendall(prefixed.prefix)

    def flushing_close(self):
        self.send_headers()
        flush(self)
        return close(self)

    def immediate_sendfile(self, respiter):
        flush(self)
        self._send_now = True
        return sendfile(self, respiter)

    response.send_headers = held_send_headers
    response.write = whole_write
    response.close = flushing_close
    response.sendfile = immediate_sendfile
    response._whole_answers = True
