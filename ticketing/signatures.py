"""Webhook signatures, Stripe's scheme, both ways: the payment webhook we receive and the
webhooks we send.

`Webhook-Signature: t=<unix seconds>,v1=<hex>`, where the hex is
HMAC-SHA256(secret, "<t>.<raw request body>"). Several `v1=` entries may be present (the
sender signs with each secret it is rotating through); one matching any secret we hold is
enough, if `t` is within the tolerance of our clock.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

HEADER = "Webhook-Signature"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
MAX_SIGNATURES = 8  # v1 entries looked at: bounds the work an attacker can ask for


def digest(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value signing `body` with `secret` at `timestamp` (default: now)."""
    t = str(int(time.time()) if timestamp is None else timestamp)
    return f"t={t},v1={digest(secret, t, body)}"


def verify(header: str | None, body: bytes, secrets: tuple[str, ...], tolerance: int, now=None) -> str | None:
    """None if `header` signs `body` with one of `secrets` within `tolerance` seconds of
    `now`; otherwise why not (for the problem's detail)."""
    if not header:
        return f"Missing {HEADER} header"
    timestamp, candidates = None, []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and timestamp is None:
            timestamp = value
        elif key == "v1" and len(candidates) < MAX_SIGNATURES:
            candidates.append(value.lower().encode())
    if timestamp is None or not _TIMESTAMP.fullmatch(timestamp) or not candidates:
        return f"Malformed {HEADER} header: expected t=<unix seconds>,v1=<hex>"
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > tolerance:
        return f"The {HEADER} timestamp is more than {tolerance} seconds away from our clock"
    matched = False
    for secret in secrets:
        expected = digest(secret, timestamp, body).encode()
        for candidate in candidates:
            # every comparison runs, in constant time: no early exit tells which one matched
            matched |= hmac.compare_digest(expected, candidate)
    return None if matched else f"No {HEADER} entry matches the body with a current secret"
