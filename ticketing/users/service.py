"""Accounts: sign up, log in (the only places, with a password change, that run bcrypt),
read, and edit them. Each change is one SQL statement; this module checks passwords and
turns 'the statement changed nothing' (or a unique violation) into the right answer."""

from flask import current_app
from psycopg2.errors import UniqueViolation

from ticketing import security
from ticketing.attempts import act_then_explain
from ticketing.errors import (
    CURRENT_PASSWORD_REQUIRED,
    EMAIL_TAKEN,
    INVALID_CREDENTIALS,
    LAST_ADMIN,
    WRONG_CURRENT_PASSWORD,
    ApiError,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthorized,
)
from ticketing.security import Principal
from ticketing.users import repository
from ticketing.users.schemas import SignupIn

# Changing these needs the current password: whoever holds only a token (a stolen one,
# an unlocked laptop) must not be able to take the account over.
SENSITIVE = ("email", "password")
EMAIL_KEY = "users_email_lower_key"


def _email_taken() -> ApiError:
    return ApiError("An account with this email already exists", kind=EMAIL_TAKEN)


def _email_conflict(exc: UniqueViolation) -> ApiError:
    """email-taken for a clash on the email index; anything else is not ours to explain."""
    if exc.diag.constraint_name != EMAIL_KEY:
        raise exc
    return _email_taken()


def _settings():
    return current_app.config["SETTINGS"]


class AdminRefused(Exception):
    """The admin bootstrap would have to change an existing account it was not told to."""


def ensure_admin(email: str, name: str, password: str | None, *, promote_existing: bool = False) -> dict:
    """Make sure `email` is an admin; running it twice is harmless. Returns the account
    with `outcome`: "created", "already-admin" or "promoted".

    A new account gets `password`. An existing non-admin account is promoted only with
    `promote_existing` (the operator's explicit word), else AdminRefused: whoever
    registered that email set its password, so promoting it silently would make them
    admin. With `promote_existing`, the account must exist (AdminRefused otherwise) and
    keeps its password."""
    if promote_existing:
        body = SignupIn(only=("email",)).load({"email": email})
        user = repository.promote_to_admin(email=body["email"])
        if user is None:
            raise AdminRefused(f"no account has the email {body['email']}: nothing to promote")
        outcome = "already-admin" if user.pop("previous_role") == "admin" else "promoted"
        return {**user, "outcome": outcome}
    body = SignupIn().load({"name": name, "email": email, "password": password})
    password_hash = security.hash_password(body["password"], _settings().bcrypt_rounds)
    user = None
    for _ in range(3):  # None: created by someone else at this very moment; look again
        user = repository.create_admin(name=body["name"], email=body["email"], password_hash=password_hash)
        if user is not None:
            break
    if user is None:
        raise AdminRefused(f"the account {body['email']} keeps changing; try again")
    created = user.pop("created")
    if not created and user["role"] != "admin":
        raise AdminRefused(
            f"{user['email']} is an existing account with the role {user['role']!r}; it is not "
            "promoted silently, because its password was set by whoever registered it"
        )
    return {**user, "outcome": "created" if created else "already-admin"}


def signup(*, name: str, email: str, password: str) -> dict:
    password_hash = security.hash_password(password, _settings().bcrypt_rounds)
    user = repository.create(name=name, email=email, password_hash=password_hash)
    if user is None:
        raise _email_taken()
    return user


def _throttle(settings) -> dict:
    return {
        "free_failures": settings.login_free_failures,
        "window_seconds": settings.login_failure_window_seconds,
        "max_delay_seconds": settings.login_max_delay_seconds,
    }


def claim_login_attempt(email: str) -> None:
    """Count a login attempt for `email` before its password is checked, or raise 429
    `rate-limited` when the email must wait after repeated failures (whether or not an
    account has it, and whatever the password: the wait ends by itself)."""
    throttle = _throttle(_settings())

    def must_wait():
        seconds = repository.login_wait(email=email, **throttle)
        if seconds:
            raise RateLimited(
                f"Too many failed logins for this email; try again in {seconds} s", retry_after=seconds
            )
        return None  # the wait ended in between: claim again

    act_then_explain(
        lambda: repository.claim_login_attempt(email=email, **throttle),
        must_wait,
        attempts=3,
        gave_up=lambda: RateLimited("Too many failed logins for this email; try again", retry_after=1),
    )


def prune_login_failures() -> int:
    """Forget failed logins past the window (the background sweep runs this)."""
    return repository.prune_login_failures(window_seconds=_settings().login_failure_window_seconds)


def login(*, email: str, password: str) -> dict:
    """A bearer token for these credentials: {token, token_type, expires_in}.

    With RATE_LIMITS on, the attempt is counted first (claim_login_attempt); a correct
    password forgets the email's failures."""
    settings = _settings()
    if settings.rate_limits:
        claim_login_attempt(email)
    user = repository.find_for_login(email=email)
    ok = security.check_password(password, user["password_hash"] if user else None, settings.bcrypt_rounds)
    if not ok:
        raise Unauthorized("Email or password is wrong", kind=INVALID_CREDENTIALS)
    if settings.rate_limits:
        repository.forget_login_failures(email=email)
    token = security.issue_token(
        user["id"], user["role"], settings.jwt_secret, settings.jwt_ttl_seconds, version=user["token_version"]
    )
    return {"token": token, "token_type": "Bearer", "expires_in": settings.jwt_ttl_seconds}


def me(principal: Principal) -> dict:
    user = repository.get(user_id=principal.id)
    if user is None:  # the token outlived its account
        raise Unauthorized("This account no longer exists")
    return user


def get(user_id) -> dict:
    user = repository.get(user_id=user_id)
    if user is None:
        raise NotFound("No user with this id")
    return user


def list_page(*, role: str | None, email: str | None, limit: int, offset: int) -> list[dict]:
    return repository.list_page(role=role, email=email, limit=limit, offset=offset)


def update_me(principal: Principal, changes: dict) -> dict:
    """Apply `changes` (name, email, password, current_password) to the caller's account.

    A new password bumps the account's token_version: every token issued before it,
    including the one this request was made with, stops working.
    """
    rounds = _settings().bcrypt_rounds
    checked_hash = None
    if any(field in changes for field in SENSITIVE):
        if "current_password" not in changes:
            raise Forbidden(
                "Changing the email or password needs the current password (current_password)",
                kind=CURRENT_PASSWORD_REQUIRED,
            )
        checked_hash = repository.password_hash(user_id=principal.id)
        if not security.check_password(changes["current_password"], checked_hash, rounds):
            raise Forbidden("The current password is wrong", kind=WRONG_CURRENT_PASSWORD)
    new_hash = security.hash_password(changes["password"], rounds) if "password" in changes else None
    try:
        user = repository.update_self(
            user_id=principal.id,
            name=changes.get("name"),
            email=changes.get("email"),
            password_hash=new_hash,
            checked_hash=checked_hash,
        )
    except UniqueViolation as exc:
        raise _email_conflict(exc) from None
    if user is None:
        if checked_hash is not None:  # the password changed since it was checked
            raise Forbidden("The current password is wrong", kind=WRONG_CURRENT_PASSWORD)
        raise Unauthorized("The access token was revoked: its account no longer exists")
    return user


def admin_update(user_id, changes: dict) -> dict:
    """An admin edits any account (name, email, role). Demoting the last admin is refused."""
    try:
        user = repository.admin_update(
            user_id=user_id, name=changes.get("name"), email=changes.get("email"), role=changes.get("role")
        )
    except UniqueViolation as exc:
        raise _email_conflict(exc) from None
    if user is None:
        get(user_id)  # 404 when it is gone
        raise ApiError(
            "This is the only admin; promote another account before demoting this one",
            kind=LAST_ADMIN,
        )
    return user
