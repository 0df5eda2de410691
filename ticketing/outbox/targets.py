"""Where webhooks may go, and the one HTTP POST that sends them.

An endpoint URL must be http(s), and its host must resolve only to public addresses:
loopback, private, link-local, shared, reserved, multicast and unspecified addresses are
refused unless WEBHOOK_ALLOW_PRIVATE_TARGETS=true (development, tests). The check runs when
an endpoint is saved and again before every attempt, and the connection goes to the very
address that was checked (no second DNS lookup a rebinding attacker could answer), with
the URL's host name for TLS (SNI, certificate) and the Host header. Redirects are not
followed.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_RESPONSE_BYTES = 64 * 1024  # read (and dropped) so the connection can be reused
USER_AGENT = "ticketing-webhooks/1"


class TargetRefused(Exception):
    """The URL may not be used as a webhook target; the message says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query
    address: str  # the checked IP address to connect to


def _split(url: str):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("The URL must be http or https")
    if not parts.hostname:
        raise TargetRefused("The URL needs a host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("The URL must not carry credentials; authenticate with the signature")
    if parts.fragment:
        raise TargetRefused("The URL must not have a fragment")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("The URL's port is not valid") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if any(c in path for c in " \r\n\t") or not path.isascii():
        raise TargetRefused("The URL's path must be plain ASCII with no spaces")
    return parts.scheme, parts.hostname, port, path


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(url: str, allow_private: bool) -> Target:
    """The target of `url`, checked; raises TargetRefused."""
    scheme, host, port, path = _split(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise TargetRefused(f"The host {host!r} does not resolve") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not allow_private:
        refused = [a for a in addresses if not _is_public(a)]
        if refused:
            raise TargetRefused(
                f"The host {host!r} resolves to a loopback, private or reserved address ({refused[0]}); "
                "set WEBHOOK_ALLOW_PRIVATE_TARGETS=true to allow it"
            )
    return Target(scheme, host, port, path, addresses[0])


class _StaleConnection(ConnectionError):
    """A kept-alive connection the receiver had closed: nothing was answered."""


class Sender:
    """POSTs to webhook targets over HTTP/1.1, keeping one connection per target alive
    between calls (one Sender per thread: connections are not shared).

    A small client of its own rather than http.client: a delivery only needs the status,
    and http.client's request and header parsing cost about 8 times the CPU of the
    exchange itself, which on the purchase rush competes with the buyers (docs/webhooks.md).
    A response whose length is not given (or too long to read) closes the connection.
    """

    def __init__(self, timeout: float):
        self.timeout = timeout
        self._sockets: dict[Target, socket.socket] = {}
        self._tls = None

    def post(self, target: Target, body: bytes, headers: dict) -> int:
        """The receiver's HTTP status; raises OSError (timeouts included) or ValueError
        (not HTTP) when there is none. The whole exchange gets `timeout` seconds."""
        request = _request(target, body, headers)
        deadline = time.monotonic() + self.timeout
        sock = self._sockets.pop(target, None)
        if sock is not None:
            try:
                return self._exchange(target, sock, request, deadline, reused=True)
            except _StaleConnection:
                pass  # the receiver closed it while idle: once more, on a new connection
        return self._exchange(target, self._connect(target, deadline), request, deadline, reused=False)

    def _connect(self, target: Target, deadline: float) -> socket.socket:
        sock = socket.create_connection(
            (target.address, target.port), max(deadline - time.monotonic(), 0.001)
        )
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if target.scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            try:
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                sock = self._tls.wrap_socket(sock, server_hostname=target.host)
            except BaseException:
                sock.close()
                raise
        return sock

    def _exchange(self, target, sock, request: bytes, deadline: float, reused: bool) -> int:
        keep = False
        try:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            sock.sendall(request)
            buffer = b""
            while b"\r\n\r\n" not in buffer:
                if len(buffer) > MAX_RESPONSE_BYTES:
                    raise ValueError("response headers too long")
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                chunk = sock.recv(65536)
                if not chunk:
                    if reused and not buffer:
                        raise _StaleConnection()
                    raise ConnectionError("the receiver closed the connection without an answer")
                buffer += chunk
            head, _, rest = buffer.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            version, _, status_text = lines[0].partition(b" ")
            if not version.startswith(b"HTTP/1.") or not status_text[:3].isdigit():
                raise ValueError("not an HTTP response")
            status = int(status_text[:3])
            fields = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                fields[name.strip().lower()] = value.strip().lower()
            length = fields.get(b"content-length")
            if status in (204, 304) or status < 200:
                length = b"0"
            keep = (
                version == b"HTTP/1.1"
                and fields.get(b"connection") != b"close"
                and b"transfer-encoding" not in fields
                and length is not None
                and length.isdigit()
                and int(length) <= MAX_RESPONSE_BYTES
            )
            if keep:  # read (and drop) the body, so the connection can carry the next one
                remaining = int(length) - len(rest)
                while remaining > 0:
                    sock.settimeout(max(deadline - time.monotonic(), 0.001))
                    chunk = sock.recv(min(remaining, 65536))
                    if not chunk:
                        keep = False
                        break
                    remaining -= len(chunk)
            return status
        finally:
            if keep:
                self._sockets[target] = sock
            else:
                sock.close()

    def close(self):
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()


def _request(target: Target, body: bytes, headers: dict) -> bytes:
    host = f"[{target.host}]" if ":" in target.host else target.host
    if target.port != (443 if target.scheme == "https" else 80):
        host = f"{host}:{target.port}"
    lines = [
        f"POST {target.path} HTTP/1.1",
        f"Host: {host}",
        "Content-Type: application/json",
        f"User-Agent: {USER_AGENT}",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
