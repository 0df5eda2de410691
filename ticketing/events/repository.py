import json

from ticketing import db, sql

CREATE = sql.load("events/create")
GET = sql.load("events/get")
LIST = sql.load("events/list")
LIST_BY_CREATOR = sql.load("events/list_by_creator")
UPDATE = sql.load("events/update")
DELETE = sql.load("events/delete")
RESTORE = sql.load("events/restore")


def create(*, created_by, ticket_types: list[dict], queue=None, **fields) -> dict:
    """The event with its types; `ticket_types` in order, each {name, price, capacity,
    max_per_order (None: the event's)}."""
    types = [
        {
            "name": t["name"],
            "price": str(t["price"]),
            "capacity": t["capacity"],
            "max_per_order": t.get("max_per_order"),
            "position": position,
        }
        for position, t in enumerate(ticket_types, start=1)
    ]
    return db.current().one(
        CREATE, created_by=created_by, ticket_types=json.dumps(types), **_queue_columns(queue), **fields
    )


def get(*, event_id) -> dict | None:
    return db.current().one(GET, id=event_id)


def list_page(*, include_past: bool, include_deleted: bool, limit: int, offset: int) -> list[dict]:
    return db.current().all(
        LIST, include_past=include_past, include_deleted=include_deleted, limit=limit, offset=offset
    )


def list_by_creator(*, created_by, limit: int, offset: int) -> list[dict]:
    return db.current().all(LIST_BY_CREATOR, created_by=created_by, limit=limit, offset=offset)


EDITABLE = (
    "name",
    "location",
    "organization",
    "rating",
    "date",
    "capacity",
    "price",
    "currency",
    "max_per_order",
)
NULLABLE = ("image_url", "description", "sale_starts_at", "max_per_user")
DEFAULT_PASS_SECONDS = 300


def _queue_columns(queue: dict | None) -> dict:
    """The `queue` object as its two columns (both null: no waiting room)."""
    if queue is None:
        return {"queue_admit_per_minute": None, "queue_pass_seconds": None}
    return {
        "queue_admit_per_minute": queue["admit_per_minute"],
        "queue_pass_seconds": queue.get("pass_seconds", DEFAULT_PASS_SECONDS),
    }


def update(*, event_id, changes: dict) -> dict | None:
    """Apply the given fields; None if the event is unknown, deleted, or the new capacity
    is below the tickets already sold."""
    params = {field: changes.get(field) for field in EDITABLE + NULLABLE}
    params.update({f"{field}_given": field in changes for field in NULLABLE})
    params.update(_queue_columns(changes.get("queue")), queue_given="queue" in changes)
    return db.current().one(UPDATE, id=event_id, **params)


def delete(*, event_id) -> bool:
    """Soft-delete; False if the event is unknown or already deleted."""
    return db.current().one(DELETE, id=event_id) is not None


def restore(*, event_id) -> dict | None:
    """Undelete; None if the event is unknown or not deleted."""
    return db.current().one(RESTORE, id=event_id)


ADD_TICKET_TYPE = sql.load("events/add_ticket_type")
UPDATE_TICKET_TYPE = sql.load("events/update_ticket_type")
DELETE_TICKET_TYPE = sql.load("events/delete_ticket_type")
TICKET_TYPE_STATE = sql.load("events/ticket_type_state")


def add_ticket_type(*, event_id, name: str, price, capacity: int, max_per_order: int | None) -> dict | None:
    """The new type, last in the list; None if the event is unknown, deleted or has 20
    types. A name the event already uses raises UniqueViolation
    (ticket_types_name_unique); so may a concurrent add (ticket_types_position_unique)."""
    return db.current().one(
        ADD_TICKET_TYPE,
        event_id=event_id,
        name=name,
        price=price,
        capacity=capacity,
        max_per_order=max_per_order,
    )


def update_ticket_type(*, event_id, type_id, changes: dict) -> dict | None:
    """Apply the given fields; None if there is no such type of a live event, or the new
    capacity is below what is sold of it."""
    params = {field: changes.get(field) for field in ("name", "price", "capacity", "max_per_order")}
    params["max_per_order_given"] = "max_per_order" in changes  # null: the event's
    return db.current().one(UPDATE_TICKET_TYPE, event_id=event_id, type_id=type_id, **params)


def delete_ticket_type(*, event_id, type_id) -> bool:
    """False if there is no such type of a live event, it has orders, or it is the last."""
    return db.current().one(DELETE_TICKET_TYPE, event_id=event_id, type_id=type_id) is not None


def ticket_type_state(*, event_id, type_id) -> dict | None:
    """The type's capacity, remaining, sold, orders (ever placed) and the event's number
    of types; None if there is no such type of a live event."""
    return db.current().one(TICKET_TYPE_STATE, event_id=event_id, type_id=type_id)
