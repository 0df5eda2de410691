"""Editing events. The edit is one SQL statement; this module turns 'the statement
changed nothing' into the right answer (unknown or deleted: 404; capacity below the
tickets already sold: 409)."""

from ticketing.errors import ApiError, NotFound
from ticketing.events import repository


def update(event_id, changes: dict) -> dict:
    # The second attempt covers tickets released (a rejected payment, an expired hold)
    # between a refused edit and its explanation, so the answer never contradicts itself.
    for _ in range(2):
        event = repository.update(event_id, changes)
        if event is not None:
            return event
        current = repository.get(event_id)
        if current is None:
            raise NotFound("No event with this id")
        sold = current["capacity"] - current["remaining"]
        if changes.get("capacity", sold) < sold:
            break
    raise ApiError(
        f"{sold} tickets are already sold; the capacity cannot go below {sold}",
        kind="capacity-below-sold",
        sold=sold,
    )
