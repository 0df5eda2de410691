"""Events: publishing, browsing and editing. Each change is one SQL statement; this
module turns 'the statement changed nothing' into the right answer (unknown or deleted:
404; capacity below the tickets already sold: 409)."""

from flask import current_app
from psycopg2.errors import CheckViolation

from ticketing.attempts import act_then_explain
from ticketing.errors import CAPACITY_BELOW_SOLD, ApiError, NotFound, ValidationFailed
from ticketing.events import repository
from ticketing.security import Principal

NO_EVENT = "No event with this id"


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
    return repository.create(created_by=principal.id, **fields)


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
