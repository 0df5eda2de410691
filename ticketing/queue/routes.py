"""The waiting room: join, poll, and (admins) its numbers. docs/waiting-room.md."""

from flask import current_app
from flask.views import MethodView

from ticketing import security
from ticketing.api import Blueprint
from ticketing.errors import EVENT_CLOSED, NO_QUEUE, NOT_FOUND, SERVICE_UNAVAILABLE
from ticketing.queue import service
from ticketing.queue.schemas import QueueEntryOut, QueueStatsOut, entry_json

blp = Blueprint("queue", __name__, description="The waiting room of an on-sale")

RETRY_AFTER = {
    "Retry-After": {
        "description": "Only while the entry is `waiting` (or `sold_out`): seconds (1-60) after which "
        "polling again is worth it",
        "schema": {"type": "integer", "minimum": 1, "maximum": 60},
    }
}


def _answer(entry: dict, status: int):
    """The entry as QueueEntryOut documents it, serialised without marshmallow (the hot
    path of a rush: schemas.entry_json is byte-identical to the schema's dump)."""
    response = current_app.response_class(entry_json(entry), status, mimetype="application/json")
    if entry["retry_after"] is not None:
        response.headers["Retry-After"] = str(entry["retry_after"])
    return response


@blp.route("/events/<uuid:event_id>/queue")
class Queue(MethodView):
    # Token revocation is checked inside the join / entry statements (one round trip).
    @blp.auth(revocation_in_sql=True)
    @blp.response(201, QueueEntryOut, headers=RETRY_AFTER)
    @blp.alt_response(200, schema=QueueEntryOut, headers=RETRY_AFTER, description="Your existing live entry")
    @blp.problems(NOT_FOUND, NO_QUEUE, EVENT_CLOSED, SERVICE_UNAVAILABLE)
    def post(self, event_id):
        """Join the event's waiting room: 201 with a new entry, or 200 with your live one

        Joining twice never gives two places: while you have an entry that is waiting (or
        sold out) or admitted with a valid pass, you get it back (200). After your pass
        expired, or once you have bought with it, you join again at the back (201).
        Joined before the sale start, your place is drawn by lot at the start among
        everyone who joined before it; after the start, you go to the back.
        404 for an unknown event; 409 `no-queue` when it has no waiting room;
        409 `event-closed` once it has started.
        """
        entry, created = service.join(security.current_principal(), event_id)
        return _answer(entry, 201 if created else 200)

    @blp.auth(revocation_in_sql=True)
    @blp.response(200, QueueEntryOut, headers=RETRY_AFTER)
    @blp.problems(NOT_FOUND, NO_QUEUE)
    def get(self, event_id):
        """Your entry in the event's waiting room (the newest, if you joined more than once)

        Poll it (honouring `Retry-After`) until it is `admitted`, then buy with its `pass`
        as the `Queue-Pass` header of `POST /orders` before `pass_expires_at`.
        404 for an unknown event or when you have not joined; 409 `no-queue` when the event
        has no waiting room.
        """
        return _answer(service.my_entry(security.current_principal(), event_id), 200)


@blp.route("/events/<uuid:event_id>/queue/stats")
class QueueStats(MethodView):
    @blp.auth(roles=security.ADMIN)
    @blp.response(200, QueueStatsOut)
    @blp.problems(NOT_FOUND, NO_QUEUE)
    def get(self, event_id):
        """The waiting room in numbers (admin): waiting, admitted, purchased, expired

        404 for an unknown event; 409 `no-queue` when it has no waiting room.
        """
        return service.stats(event_id)
