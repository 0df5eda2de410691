"""Signed ticket codes: what a ticket's QR code holds, verifiable without the database.

A code is base64url, without padding, of 99 bytes (132 characters, no spare bits, so
every code has exactly one spelling):

    format (1 byte, 0x01) | ticket id (16) | event id (16) | code_version (2, big-endian)
    | Ed25519 signature of the 35 bytes before it (64)

The key is the deployment's TICKET_SIGNING_KEY (the 32-byte seed); its public half is
served at GET /check-in/public-key, so an offline scanner can check codes itself.
docs/tickets.md describes the format for scanner authors. Signing is deterministic: the
same ticket at the same version always has the same code, so codes are not stored.
"""

from __future__ import annotations

import base64
import binascii
import struct
import uuid
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import current_app

FORMAT = 1
_PAYLOAD = struct.Struct(">B16s16sH")
SIGNATURE_BYTES = 64
CODE_BYTES = _PAYLOAD.size + SIGNATURE_BYTES  # 99
CODE_LENGTH = CODE_BYTES * 4 // 3  # 132 characters
MAX_VERSION = 2**16 - 1
ALGORITHM = "Ed25519"


class InvalidCode(ValueError):
    """Not a code this deployment signed: malformed, another format, or a bad signature."""


@dataclass(frozen=True)
class Code:
    ticket_id: str
    event_id: str
    version: int


@lru_cache(maxsize=4)
def _private_key(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)


@lru_cache(maxsize=4)
def _public_key(seed: bytes) -> Ed25519PublicKey:
    return _private_key(seed).public_key()


def public_key(seed: bytes) -> str:
    """The public key of `seed`, as the standard base64 of its 32 raw bytes."""
    raw = _public_key(seed).public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def check_seed(seed: bytes) -> None:
    """Raises ValueError unless `seed` is a usable Ed25519 private key (32 bytes)."""
    if len(seed) != 32:
        raise ValueError(f"an Ed25519 seed is 32 bytes, not {len(seed)}")
    _private_key(seed)


# Signing costs ~0.1-0.2 ms; a ticket at a version always has the same code, and the same
# tickets are shown again and again (order lists, the holder's tickets).
@lru_cache(maxsize=16384)
def sign(seed: bytes, ticket_id, event_id, version: int) -> str:
    payload = _PAYLOAD.pack(FORMAT, _uuid_bytes(ticket_id), _uuid_bytes(event_id), version)
    signature = _private_key(seed).sign(payload)
    return base64.urlsafe_b64encode(payload + signature).decode().rstrip("=")


def verify(seed: bytes, code: str) -> Code:
    """What a genuine code says; InvalidCode for anything else, including a code whose
    spelling differs from the one we sign (one flipped character is never accepted)."""
    if not isinstance(code, str) or len(code) != CODE_LENGTH:
        raise InvalidCode("a ticket code is 132 characters")
    try:
        raw = base64.urlsafe_b64decode(code.encode("ascii"))
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise InvalidCode("a ticket code is base64url") from None
    if len(raw) != CODE_BYTES or base64.urlsafe_b64encode(raw).decode() != code:
        raise InvalidCode("a ticket code is base64url")
    payload, signature = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
    try:
        _public_key(seed).verify(signature, payload)
    except InvalidSignature:
        raise InvalidCode("the code's signature does not match") from None
    fmt, ticket, event, version = _PAYLOAD.unpack(payload)
    if fmt != FORMAT or version < 1:
        raise InvalidCode("unknown code format")
    return Code(str(uuid.UUID(bytes=ticket)), str(uuid.UUID(bytes=event)), version)


def _uuid_bytes(value) -> bytes:
    return value.bytes if isinstance(value, uuid.UUID) else uuid.UUID(str(value)).bytes


def shown_to(principal, ticket: dict, order_status: str) -> dict:
    """`ticket` (a row with id, event_id, holder_id, code_version, status) with its `code`
    as `principal` may see it: the signed code for its holder, staff and admins, once its
    order is PAID and while it is not CANCELLED; None otherwise (an unpaid hold is not yet
    a ticket; the buyer of a ticket given away no longer holds it)."""
    ticket["code"] = None
    if order_status == "PAID" and ticket["status"] != "CANCELLED":
        if str(ticket["holder_id"]) == principal.id or principal.sees_every_ticket:
            seed = current_app.config["SETTINGS"].ticket_signing_key
            ticket["code"] = sign(seed, ticket["id"], ticket["event_id"], ticket["code_version"])
    return ticket


class _Organiser:
    """Whom outgoing webhooks (docs/webhooks.md) write tickets for: the organiser's own
    systems, which see codes as staff and admins do."""

    id = None
    sees_every_ticket = True


ORGANISER = _Organiser()
