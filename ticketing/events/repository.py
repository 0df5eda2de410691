from ticketing import db, sql

CREATE = sql.load("events/create")
GET = sql.load("events/get")
LIST = sql.load("events/list")
LIST_BY_CREATOR = sql.load("events/list_by_creator")


def create(created_by, **fields) -> dict:
    return db.current().one(CREATE, created_by=str(created_by), **fields)


def get(event_id) -> dict | None:
    return db.current().one(GET, id=str(event_id))


def list_page(include_past: bool, limit: int, offset: int) -> list[dict]:
    return db.current().all(LIST, include_past=include_past, limit=limit, offset=offset)


def list_by_creator(created_by, limit: int, offset: int) -> list[dict]:
    return db.current().all(LIST_BY_CREATOR, created_by=str(created_by), limit=limit, offset=offset)
