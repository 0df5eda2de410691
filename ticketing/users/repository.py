from ticketing import db, sql

CREATE = sql.load("users/create")
FIND_FOR_LOGIN = sql.load("users/find_for_login")
GET = sql.load("users/get")
UPSERT_ADMIN = sql.load("users/upsert_admin")


def create(name: str, email: str, password_hash: str, role: str = "user") -> dict | None:
    """The new user, or None when the email is taken."""
    return db.current().one(CREATE, name=name, email=email, password_hash=password_hash, role=role)


def find_for_login(email: str) -> dict | None:
    return db.current().one(FIND_FOR_LOGIN, email=email)


def get(user_id) -> dict | None:
    return db.current().one(GET, id=str(user_id))


def upsert_admin(name: str, email: str, password_hash: str) -> dict:
    return db.current().one(UPSERT_ADMIN, name=name, email=email, password_hash=password_hash)
