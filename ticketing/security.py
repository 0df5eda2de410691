"""Passwords (bcrypt), access tokens (HS256 JWT) and the role check."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import bcrypt
import jwt
from flask import current_app, g, request

from ticketing.errors import Forbidden, Unauthorized

ALGORITHM = "HS256"
ROLES = ("user", "admin")


@dataclass(frozen=True)
class Principal:
    id: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def hash_password(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


_dummy_hashes: dict[int, bytes] = {}


def _dummy_hash(rounds: int) -> bytes:
    if rounds not in _dummy_hashes:
        _dummy_hashes[rounds] = bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt(rounds))
    return _dummy_hashes[rounds]


def check_password(password: str, password_hash: str | None, rounds: int) -> bool:
    """Constant work whether or not the user exists: unknown emails check a dummy hash."""
    candidate = password.encode()[:72]
    if password_hash is None:
        bcrypt.checkpw(candidate, _dummy_hash(rounds))
        return False
    ok = bcrypt.checkpw(candidate, password_hash.encode())
    # bcrypt only reads 72 bytes; a longer password can never have been set (signup caps it).
    return ok and len(password.encode()) <= 72


def issue_token(user_id, role: str, secret: str, ttl: int, now: int | None = None) -> str:
    now = int(time.time()) if now is None else now
    claims = {"sub": str(user_id), "role": role, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(token: str, secret: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "role", "iat", "exp"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The access token has expired") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("The access token is invalid") from None
    role = claims.get("role")
    try:
        user_id = str(uuid.UUID(claims["sub"]))
    except (ValueError, TypeError, AttributeError):
        raise Unauthorized("The access token is invalid") from None
    if role not in ROLES:
        raise Unauthorized("The access token is invalid")
    return Principal(user_id, role)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(role: str | None = None) -> Principal:
    token = bearer_token()
    if token is None:
        raise Unauthorized("Send an access token: Authorization: Bearer <token>")
    principal = decode_token(token, current_app.config["SETTINGS"].jwt_secret)
    g.principal = principal  # set before the role check, so a 403 is logged with its user_id
    if role == "admin" and not principal.is_admin:
        raise Forbidden("This action needs the admin role")
    return principal


def current_principal() -> Principal:
    return g.principal
