"""Where webhooks may go, and the one HTTP POST that sends them (stdlib http.client).

An endpoint URL must be http(s), and its host must resolve only to public addresses:
loopback, private, link-local, shared, reserved, multicast and unspecified addresses are
refused unless WEBHOOK_ALLOW_PRIVATE_TARGETS=true (development, tests). The check runs when
an endpoint is saved and again before every attempt, and the connection goes to the very
address that was checked (no second DNS lookup a rebinding attacker could answer), with
the URL's host name for TLS (SNI, certificate) and the Host header. Redirects are not
followed.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
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


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self.address = target.address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class Sender:
    """POSTs to webhook targets, keeping one connection per target alive between calls
    (one Sender per thread: connections are not shared)."""

    def __init__(self, timeout: float):
        self.timeout = timeout
        self._connections: dict[Target, http.client.HTTPConnection] = {}

    def post(self, target: Target, body: bytes, headers: dict) -> int:
        """The receiver's HTTP status; raises OSError or HTTPException when there is none."""
        connection = self._connections.pop(target, None)
        if connection is not None:
            try:
                return self._exchange(target, connection, body, headers)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The receiver had closed the idle kept-alive connection: once more, on a new one.
                connection.close()
        cls = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
        return self._exchange(target, cls(target, self.timeout), body, headers)

    def _exchange(self, target, connection, body, headers) -> int:
        try:
            connection.request(
                "POST",
                target.path,
                body=body,
                headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
            )
            response = connection.getresponse()
            response.read(MAX_RESPONSE_BYTES)
        except BaseException:
            connection.close()
            raise
        if response.will_close or not response.isclosed():
            connection.close()  # closing, or a body larger than we read
        else:
            self._connections[target] = connection
        return response.status

    def close(self):
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()
