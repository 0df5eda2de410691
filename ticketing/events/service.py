"""Events: publishing, browsing and editing. Each change is one SQL statement; this
module turns 'the statement changed nothing' into the right answer (unknown or deleted:
404; capacity below the tickets already sold: 409)."""

from flask import current_app
from psycopg2.errors import CheckViolation, ForeignKeyViolation, UniqueViolation

from ticketing.attempts import act_then_explain
from ticketing.errors import (
    CAPACITY_BELOW_SOLD,
    LAST_TICKET_TYPE,
    TICKET_TYPE_IN_USE,
    TICKET_TYPE_NAME_TAKEN,
    TOO_MANY_TICKET_TYPES,
    ApiError,
    NotFound,
    ValidationFailed,
)
from ticketing.events import repository
from ticketing.security import Principal

NO_EVENT = "No event with this id"
NO_TYPE = "No ticket type with this id for this event"
DEFAULT_TYPE_NAME = "General"


def list_page(*, include_past: bool, include_deleted: bool, limit: int, offset: int) -> list[dict]:
    return repository.list_page(
        include_past=include_past, include_deleted=include_deleted, limit=limit, offset=offset
    )


def list_mine(principal: Principal, *, limit: int, offset: int) -> list[dict]:
    return repository.list_by_creator(created_by=principal.id, limit=limit, offset=offset)


def create(principal: Principal, fields: dict) -> dict:
    settings = current_app.config["SETTINGS"]
    fields.setdefault("max_per_order", settings.max_tickets_per_order)
    fields.setdefault("currency", settings.default_currency)
    types = fields.pop("ticket_types", None) or [
        {"name": DEFAULT_TYPE_NAME, "price": fields["price"], "capacity": fields["capacity"]}
    ]
    fields["price"] = types[0]["price"]  # the event's price is its first type's
    return repository.create(created_by=principal.id, ticket_types=types, **fields)


def get(event_id) -> dict:
    event = repository.get(event_id=event_id)
    if event is None:
        raise NotFound(NO_EVENT)
    return event


def delete(event_id) -> None:
    if not repository.delete(event_id=event_id):
        raise NotFound(NO_EVENT)


def restore(event_id) -> dict:
    event = repository.restore(event_id=event_id)
    if event is None:
        raise NotFound("No deleted event with this id")
    return event


def update(event_id, changes: dict) -> dict:
    sold = None

    def explain():
        nonlocal sold
        current = get(event_id)
        sold = current["capacity"] - current["remaining"]
        if changes.get("capacity", sold) < sold:
            raise below_sold()
        return None  # tickets came back in between (a rejected payment): try again

    def below_sold():
        return ApiError(
            f"{sold} tickets are already sold; the capacity cannot go below {sold}",
            kind=CAPACITY_BELOW_SOLD,
            sold=sold,
        )

    def act():
        try:
            return repository.update(event_id=event_id, changes=changes)
        except CheckViolation as error:
            # Only one of date and sale_starts_at was given (the schema compares both
            # when both are): the stored other one decides.
            if error.diag.constraint_name != "events_sale_starts_before_date":
                raise
            raise ValidationFailed({"sale_starts_at": ["Must be before the event's date."]}) from None

    return act_then_explain(act, explain, attempts=2, gave_up=below_sold)


def _name_taken(error: UniqueViolation) -> ApiError:
    if error.diag.constraint_name != "ticket_types_name_unique":
        raise error
    return ApiError("Another ticket type of this event has this name", kind=TICKET_TYPE_NAME_TAKEN)


def add_ticket_type(event_id, fields: dict) -> dict:
    """A new ticket type, last in the event's list (docs/ticket-types.md)."""
    for _ in range(2):  # a concurrent add may take the same position: once more
        try:
            added = repository.add_ticket_type(
                event_id=event_id,
                name=fields["name"],
                price=fields["price"],
                capacity=fields["capacity"],
                max_per_order=fields.get("max_per_order"),
            )
        except UniqueViolation as error:
            if error.diag.constraint_name == "ticket_types_position_unique":
                continue
            raise _name_taken(error) from None
        if added is None:
            get(event_id)  # 404 when unknown or deleted
            raise ApiError(
                "This event already has 20 ticket types, the most allowed", kind=TOO_MANY_TICKET_TYPES
            )
        return added
    raise ApiError("Another ticket type was being added; try again", kind=TOO_MANY_TICKET_TYPES)


def _type_state(event_id, type_id) -> dict:
    state = repository.ticket_type_state(event_id=event_id, type_id=type_id)
    if state is None:
        raise NotFound(NO_TYPE)
    return state


def update_ticket_type(event_id, type_id, changes: dict) -> dict:
    """Edit a type: capacity moves its remaining, never below what is sold of it."""
    sold = None

    def act():
        try:
            return repository.update_ticket_type(event_id=event_id, type_id=type_id, changes=changes)
        except UniqueViolation as error:
            raise _name_taken(error) from None

    def explain():
        nonlocal sold
        sold = _type_state(event_id, type_id)["sold"]
        if changes.get("capacity", sold) < sold:
            raise below_sold()
        return None  # tickets came back in between: try again

    def below_sold():
        return ApiError(
            f"{sold} tickets of this type are already sold; its capacity cannot go below {sold}",
            kind=CAPACITY_BELOW_SOLD,
            sold=sold,
        )

    return act_then_explain(act, explain, attempts=2, gave_up=below_sold)


def delete_ticket_type(event_id, type_id) -> None:
    """Delete a type no order was ever placed for, unless it is the event's last."""
    try:
        if repository.delete_ticket_type(event_id=event_id, type_id=type_id):
            return
    except ForeignKeyViolation:  # an order for it committed while the delete waited
        pass
    state = _type_state(event_id, type_id)
    if state["orders"]:
        raise ApiError(
            f"{state['orders']} orders were placed for this ticket type; it can no longer be deleted "
            "(set its capacity to what is sold to stop selling it)",
            kind=TICKET_TYPE_IN_USE,
            orders=state["orders"],
        )
    if state["types"] <= 1:
        raise ApiError("An event needs at least one ticket type", kind=LAST_TICKET_TYPE)
    raise ApiError(
        "An order for this ticket type was just placed; it can no longer be deleted",
        kind=TICKET_TYPE_IN_USE,
        orders=1,
    )
