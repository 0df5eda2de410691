"""Editing accounts: the rules behind PATCH /me and the admin's PATCH /users/<id>. Each
edit is one SQL statement; this module checks the current password and turns 'the
statement changed nothing' (or a unique violation) into the right answer."""

from flask import current_app
from psycopg2.errors import UniqueViolation

from ticketing import security
from ticketing.errors import ApiError, Forbidden, NotFound, Unauthorized
from ticketing.security import Principal
from ticketing.users import repository

# Changing these needs the current password: whoever holds only a token (a stolen one,
# an unlocked laptop) must not be able to take the account over.
SENSITIVE = ("email", "password")
EMAIL_KEY = "users_email_lower_key"


def _email_taken(exc: UniqueViolation) -> ApiError:
    if exc.diag.constraint_name != EMAIL_KEY:
        raise exc
    return ApiError("An account with this email already exists", kind="email-taken")


def update_me(principal: Principal, changes: dict) -> dict:
    """Apply `changes` (name, email, password, current_password) to the caller's account.

    A new password bumps the account's token_version: every token issued before it,
    including the one this request was made with, stops working.
    """
    rounds = current_app.config["SETTINGS"].bcrypt_rounds
    checked_hash = None
    if any(field in changes for field in SENSITIVE):
        if "current_password" not in changes:
            raise Forbidden(
                "Changing the email or password needs the current password (current_password)",
                kind="current-password-required",
            )
        checked_hash = repository.password_hash(principal.id)
        if not security.check_password(changes["current_password"], checked_hash, rounds):
            raise Forbidden("The current password is wrong", kind="wrong-current-password")
    new_hash = security.hash_password(changes["password"], rounds) if "password" in changes else None
    try:
        user = repository.update_self(
            principal.id,
            name=changes.get("name"),
            email=changes.get("email"),
            password_hash=new_hash,
            checked_hash=checked_hash,
        )
    except UniqueViolation as exc:
        raise _email_taken(exc) from None
    if user is None:
        if checked_hash is not None:  # the password changed since it was checked
            raise Forbidden("The current password is wrong", kind="wrong-current-password")
        raise Unauthorized("The access token was revoked: its account no longer exists")
    return user


def admin_update(user_id, changes: dict) -> dict:
    """An admin edits any account (name, email, role). Demoting the last admin is refused."""
    try:
        user = repository.admin_update(
            user_id, name=changes.get("name"), email=changes.get("email"), role=changes.get("role")
        )
    except UniqueViolation as exc:
        raise _email_taken(exc) from None
    if user is None:
        if repository.get(user_id) is None:
            raise NotFound("No user with this id")
        raise ApiError(
            "This is the only admin; promote another account before demoting this one",
            kind="last-admin",
        )
    return user
