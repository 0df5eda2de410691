"""The fast HS256 check (security._fast_claims) beside PyJWT: it accepts only tokens PyJWT
accepts, with the same claims, and leaves everything unusual to PyJWT, so every refusal
(and its detail) stays PyJWT's. Pure functions: no database, no server."""

import base64
import json
import time
import uuid

import jwt
import pytest

from ticketing import security
from ticketing.errors import Unauthorized

SECRET = "a-test-secret-that-is-well-over-32-bytes-long"
USER = str(uuid.uuid4())


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**changes):
    now = int(time.time())
    return {"sub": USER, "role": "user", "ver": 0, "iat": now, "exp": now + 60, **changes}


def signed(header: dict, payload: dict, key: str = SECRET) -> str:
    """A token signed by hand, so the header and payload bytes are exactly ours."""
    import hashlib
    import hmac

    head = b64(json.dumps(header, separators=(",", ":")).encode())
    body = b64(json.dumps(payload, separators=(",", ":")).encode())
    mac = hmac.new(key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(mac)}"


def pyjwt_verdict(token: str):
    try:
        return jwt.decode(
            token, SECRET, algorithms=["HS256"], options={"require": ["sub", "role", "ver", "iat", "exp"]}
        )
    except jwt.InvalidTokenError as error:
        return type(error)


@pytest.fixture(autouse=True)
def secret_checked_by_pyjwt():
    security.decode_token(security.issue_token(USER, "user", SECRET, ttl=60), SECRET)
    assert SECRET in security._checked_secrets


def test_our_tokens_pass_the_fast_check_with_pyjwt_s_claims():
    for version in (0, 3):
        token = security.issue_token(USER, "admin", SECRET, ttl=300, version=version)
        assert security._fast_claims(token, SECRET) == pyjwt_verdict(token)
        assert security.decode_token(token, SECRET) == security.Principal(USER, "admin", version)


def test_a_secret_pyjwt_never_accepted_gets_no_fast_check():
    other = "another-secret-that-is-also-over-32-bytes"
    token = security.issue_token(USER, "user", other, ttl=60)
    assert security._fast_claims(token, other) is None
    security.decode_token(token, other)
    assert security._fast_claims(security.issue_token(USER, "user", other, ttl=60), other) is not None


HEADER = {"alg": "HS256", "typ": "JWT"}
NOW = int(time.time())


@pytest.mark.parametrize(
    "token",
    [
        security.issue_token(USER, "user", "a-different-secret-of-more-than-32-bytes", ttl=60),
        security.issue_token(USER, "user", SECRET, ttl=-10),  # expired
        signed(HEADER, claims(iat=NOW + 3600)),  # issued in the future
        signed(HEADER, claims(nbf=NOW + 3600)),
        signed(HEADER, claims(aud="someone")),
        signed(HEADER, claims(jti=5)),
        signed(HEADER, claims(exp=float(NOW + 60))),
        signed(HEADER, {k: v for k, v in claims().items() if k != "exp"}),
        signed(HEADER, claims(sub=5)),
        signed({"alg": "HS256", "typ": "JWT", "kid": "x"}, claims()),
        signed({"alg": "HS512", "typ": "JWT"}, claims()),
        signed({"alg": "none", "typ": "JWT"}, claims()),
        security.issue_token(USER, "user", SECRET, ttl=60) + "=",
        security.issue_token(USER, "user", SECRET, ttl=60)[:-2],
        "not.a.jwt",
        "",
    ],
    ids=[
        "forged",
        "expired",
        "iat-future",
        "nbf",
        "aud",
        "jti",
        "float-exp",
        "no-exp",
        "int-sub",
        "other-header",
        "hs512",
        "alg-none",
        "padded",
        "cut",
        "malformed",
        "empty",
    ],
)
def test_anything_unusual_is_left_to_pyjwt(token):
    fast = security._fast_claims(token, SECRET)
    verdict = pyjwt_verdict(token)
    assert fast is None or fast == verdict
    if isinstance(verdict, type):  # PyJWT refuses: so does decode_token, with PyJWT's reason
        assert fast is None
        with pytest.raises(Unauthorized):
            security.decode_token(token, SECRET)
