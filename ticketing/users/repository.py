from ticketing import db, sql

CREATE = sql.load("users/create")
FIND_FOR_LOGIN = sql.load("users/find_for_login")
GET = sql.load("users/get")
UPSERT_ADMIN = sql.load("users/upsert_admin")
AUTH_STATE = sql.load("users/auth_state")
PASSWORD_HASH = sql.load("users/password_hash")
UPDATE_SELF = sql.load("users/update_self")
ADMIN_UPDATE = sql.load("users/admin_update")
LIST = sql.load("users/list")


def create(*, name: str, email: str, password_hash: str, role: str = "user") -> dict | None:
    """The new user, or None when the email is taken."""
    return db.current().one(CREATE, name=name, email=email, password_hash=password_hash, role=role)


def find_for_login(*, email: str) -> dict | None:
    return db.current().one(FIND_FOR_LOGIN, email=email)


def get(*, user_id) -> dict | None:
    return db.current().one(GET, id=user_id)


def upsert_admin(*, name: str, email: str, password_hash: str) -> dict:
    return db.current().one(UPSERT_ADMIN, name=name, email=email, password_hash=password_hash)


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
