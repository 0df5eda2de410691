"""Passwords (bcrypt), access tokens (HS256 JWT), revocation and the role check.

A token carries the account's `token_version` at issue time in its `ver` claim; a
password change bumps the version, revoking every older token. `authenticate()` checks
the token against the database on every request (one small query, which also gives the
account's current role). The purchase route alone skips that query and lets
sql/orders/purchase.sql check the version in the same statement that sells.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
import uuid
from dataclasses import dataclass, replace

import bcrypt
import jwt
from flask import current_app, g, request

from ticketing.errors import Forbidden, NotFound, Unauthorized
from ticketing.users import repository as users_repository

ALGORITHM = "HS256"
ROLES = ("user", "staff", "admin")
# Who may do what beyond their own things: `staff` (door staff) read any ticket and check
# tickets in; `admin` does everything. Routes name the roles they allow (blp.auth(roles=...)).
ADMIN = ("admin",)
DOOR = ("staff", "admin")


@dataclass(frozen=True)
class Principal:
    id: str
    role: str
    token_version: int

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def sees_every_ticket(self) -> bool:
        return self.role in DOOR


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


def issue_token(user_id, role: str, secret: str, ttl: int, now: int | None = None, version: int = 0) -> str:
    """`version` is the account's token_version now: a later password change revokes the token."""
    now = int(time.time()) if now is None else now
    # `sub` first: nginx keys the per-user purchase rate limit on the payload's first 60
    # base64url characters, {"sub":"<uuid>", (deploy/nginx/ticketing.conf.template).
    claims = {"sub": str(user_id), "role": role, "ver": version, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


# Tokens that already passed verification, until they expire: the same client sends the
# same token many times, and verifying it again costs more than the rest of a purchase's
# Python. Only verified tokens get in, an entry is dropped at `exp`, and the size is capped.
_VERIFIED_CAP = 50_000
_verified: dict[tuple[str, str], tuple[Principal, int]] = {}


# The header every token we issue carries (PyJWT writes it); tokens with any other header
# go through PyJWT alone.
_HEADER_SEGMENT = jwt.encode({}, "k" * 32, algorithm=ALGORITHM).partition(".")[0]
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
# Claims after which the fast check defers to PyJWT (it rules on them; we never issue them).
_DEFERRED_CLAIMS = frozenset({"nbf", "aud", "jti", "iss"})
# Secrets PyJWT has accepted a token with (its key checks passed): only those get the fast check.
_checked_secrets: set[str] = set()


def _fast_claims(token: str, secret: str) -> dict | None:
    """The claims of an HS256 token of ours that is certainly valid, checked without PyJWT
    (~10 us against ~200 us: joining a waiting room is mostly fresh tokens); None when
    anything is unusual, and PyJWT then decides (and says why it refuses). So this only
    ever accepts what PyJWT would accept, and every refusal is PyJWT's."""
    header, _, rest = token.partition(".")
    payload, _, signature = rest.partition(".")
    if header != _HEADER_SEGMENT or secret not in _checked_secrets:
        return None
    if not _SEGMENT.fullmatch(payload) or not _SEGMENT.fullmatch(signature) or len(payload) % 4 == 1:
        return None
    expected = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(base64.urlsafe_b64encode(expected).rstrip(b"=").decode(), signature):
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error):
        return None
    if type(claims) is not dict or not _DEFERRED_CLAIMS.isdisjoint(claims):
        return None
    exp, iat, now = claims.get("exp"), claims.get("iat"), time.time()
    if type(exp) is not int or type(iat) is not int or not (iat <= now < exp):
        return None
    if type(claims.get("sub")) is not str or claims.get("role") is None or claims.get("ver") is None:
        return None
    return claims


def decode_token(token: str, secret: str) -> Principal:
    cached = _verified.get((secret, token))
    if cached is not None and cached[1] > time.time():
        return cached[0]
    claims = _fast_claims(token, secret)
    if claims is None:
        try:
            claims = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                options={"require": ["sub", "role", "ver", "iat", "exp"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The access token has expired") from None
        except jwt.InvalidTokenError:
            raise Unauthorized("The access token is invalid") from None
        _checked_secrets.add(secret)
    role = claims.get("role")
    try:
        user_id = str(uuid.UUID(claims["sub"]))
    except (ValueError, TypeError, AttributeError):
        raise Unauthorized("The access token is invalid") from None
    version = claims.get("ver")
    if role not in ROLES or type(version) is not int or version < 0:
        raise Unauthorized("The access token is invalid")
    principal = Principal(user_id, role, version)
    if len(_verified) >= _VERIFIED_CAP:
        _verified.clear()
    _verified[(secret, token)] = (principal, claims["exp"])
    return principal


def bearer_token(header: str | None = None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (the request's, unless given)."""
    if header is None:
        header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def check_not_revoked(principal: Principal, current_version: int | None) -> None:
    """401 unless the account still exists (`current_version` is not None) and the token
    was issued at its current token_version. The one place this rule is decided."""
    if current_version is None:
        raise Unauthorized("The access token was revoked: its account no longer exists")
    if current_version != principal.token_version:
        raise Unauthorized("The access token was revoked by a password change; log in again")


def current_state(principal: Principal) -> Principal:
    """The principal as the database sees it now: 401 if its token is revoked; the role
    is the account's current one, not the token's."""
    state = users_repository.auth_state(user_id=principal.id)
    check_not_revoked(principal, state and state["token_version"])
    return replace(principal, role=state["role"])


def authenticate(roles: tuple[str, ...] | None = None, revocation_in_sql: bool = False) -> Principal:
    """The caller, from a valid, unrevoked bearer token; 403 unless its role is in `roles`
    (None: any signed-in account).

    `revocation_in_sql=True` skips the database lookup: the route's own statement must
    check the token version instead (only the purchase does), and the role is the token's.
    """
    token = bearer_token()
    if token is None:
        raise Unauthorized("Send an access token: Authorization: Bearer <token>")
    principal = decode_token(token, current_app.config["SETTINGS"].jwt_secret)
    g.principal = principal  # set early, so a 401 or 403 is logged with its user_id
    if not revocation_in_sql:
        principal = g.principal = current_state(principal)
    if roles is not None and principal.role not in roles:
        raise Forbidden(f"This action needs the {' or '.join(roles)} role")
    return principal


def current_principal() -> Principal:
    return g.principal


def visible_or_404(
    principal: Principal,
    row: dict | None,
    not_found: str,
    *,
    owner: str = "user_id",
    seen_by: tuple[str, ...] = ADMIN,
) -> dict:
    """The row (an order, a ticket) if the caller owns it (its `owner` column: an order's
    `user_id`, a ticket's `holder_id`) or has one of the `seen_by` roles. Anyone else gets
    404, exactly as if it did not exist: the one ownership rule, like flaskr's
    get_post(id, check_author=True)."""
    if row is None or (str(row[owner]) != principal.id and principal.role not in seen_by):
        raise NotFound(not_found)
    return row
