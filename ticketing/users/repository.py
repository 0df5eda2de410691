from ticketing import db, sql

CREATE = sql.load("users/create")
FIND_FOR_LOGIN = sql.load("users/find_for_login")
GET = sql.load("users/get")
CREATE_ADMIN = sql.load("users/create_admin")
PROMOTE_TO_ADMIN = sql.load("users/promote_to_admin")
AUTH_STATE = sql.load("users/auth_state")
PASSWORD_HASH = sql.load("users/password_hash")
UPDATE_SELF = sql.load("users/update_self")
ADMIN_UPDATE = sql.load("users/admin_update")
LIST = sql.load("users/list")
CLAIM_LOGIN_ATTEMPT = sql.load("users/claim_login_attempt")
LOGIN_WAIT = sql.load("users/login_wait")
FORGET_LOGIN_FAILURES = sql.load("users/forget_login_failures")
PRUNE_LOGIN_FAILURES = sql.load("users/prune_login_failures")


def create(*, name: str, email: str, password_hash: str, role: str = "user") -> dict | None:
    """The new user, or None when the email is taken."""
    return db.current().one(CREATE, name=name, email=email, password_hash=password_hash, role=role)


def find_for_login(*, email: str) -> dict | None:
    return db.current().one(FIND_FOR_LOGIN, email=email)


def get(*, user_id) -> dict | None:
    return db.current().one(GET, id=user_id)


def create_admin(*, name: str, email: str, password_hash: str) -> dict | None:
    """The new admin ({..., created: True}) or the existing account with this email,
    unchanged ({..., created: False}); None if it was created concurrently (run again)."""
    return db.current().one(CREATE_ADMIN, name=name, email=email, password_hash=password_hash)


def promote_to_admin(*, email: str) -> dict | None:
    """The account, now admin, with its `previous_role`; None when no account has this email."""
    return db.current().one(PROMOTE_TO_ADMIN, email=email)


def auth_state(*, user_id) -> dict | None:
    """{role, token_version} of the account, or None when it no longer exists."""
    return db.current().one(AUTH_STATE, id=user_id)


def password_hash(*, user_id) -> str | None:
    row = db.current().one(PASSWORD_HASH, id=user_id)
    return row and row["password_hash"]


def update_self(*, user_id, name=None, email=None, password_hash=None, checked_hash=None) -> dict | None:
    """The edited user, or None if it is gone or its password hash is no longer
    `checked_hash`. A taken email raises psycopg2.errors.UniqueViolation."""
    return db.current().one(
        UPDATE_SELF,
        id=user_id,
        name=name,
        email=email,
        password_hash=password_hash,
        checked_hash=checked_hash,
    )


def admin_update(*, user_id, name=None, email=None, role=None) -> dict | None:
    """The edited user, or None if it is gone or the change would demote the last admin.
    A taken email raises psycopg2.errors.UniqueViolation."""
    return db.current().one(ADMIN_UPDATE, id=user_id, name=name, email=email, role=role)


def list_page(*, role: str | None, email: str | None, limit: int, offset: int) -> list[dict]:
    return db.current().all(LIST, role=role, email=email, limit=limit, offset=offset)


def claim_login_attempt(
    *, email: str, free_failures: int, window_seconds: int, max_delay_seconds: int
) -> dict | None:
    """{failures} with this attempt counted, or None when the email must wait first."""
    return db.current().one(
        CLAIM_LOGIN_ATTEMPT,
        email=email,
        free_failures=free_failures,
        window_seconds=window_seconds,
        max_delay_seconds=max_delay_seconds,
    )


def login_wait(*, email: str, free_failures: int, window_seconds: int, max_delay_seconds: int) -> int | None:
    """Seconds the email must still wait before a login attempt, or None."""
    row = db.current().one(
        LOGIN_WAIT,
        email=email,
        free_failures=free_failures,
        window_seconds=window_seconds,
        max_delay_seconds=max_delay_seconds,
    )
    return row and row["retry_after"]


def forget_login_failures(*, email: str) -> None:
    db.current().execute(FORGET_LOGIN_FAILURES, email=email)


def prune_login_failures(*, window_seconds: int) -> int:
    return db.current().execute(PRUNE_LOGIN_FAILURES, window_seconds=window_seconds)
