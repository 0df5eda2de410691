"""Events: admins publish them, everyone browses them."""

from flask import current_app
from flask.views import MethodView

from ticketing import security
from ticketing.api import Blueprint, page_items, page_window
from ticketing.errors import NotFound
from ticketing.events import repository, service
from ticketing.events.schemas import EVENT_EXAMPLE, EventIn, EventListArgs, EventOut, EventPatch

blp = Blueprint("events", __name__, description="Events and their remaining capacity")


@blp.route("/events")
class Events(MethodView):
    @blp.arguments(EventListArgs, location="query")
    @blp.response(200, EventOut(many=True))
    @blp.paginate()
    @blp.problems("unauthorized", "forbidden")
    def get(self, args, pagination_parameters):
        """Upcoming events, soonest first (ties by id); `include_past=true` adds past ones

        `include_deleted=true` (admins only, with their bearer token) adds deleted events,
        which carry `deleted_at`; without a token it answers 401, for a user 403.
        """
        if args["include_deleted"]:
            security.authenticate(role="admin")
        window = page_window(pagination_parameters)
        rows = repository.list_page(args["include_past"], args["include_deleted"], **window)
        return page_items(rows, pagination_parameters)

    @blp.auth(role="admin")
    @blp.arguments(EventIn, example=EVENT_EXAMPLE)
    @blp.response(201, EventOut)
    @blp.problems("malformed-request", "unsupported-media-type", "payload-too-large")
    def post(self, body):
        """Publish an event (admin)"""
        body.setdefault("max_per_order", current_app.config["SETTINGS"].max_tickets_per_order)
        return repository.create(security.current_principal().id, **body)


@blp.route("/events/<uuid:event_id>")
class Event(MethodView):
    @blp.response(200, EventOut)
    @blp.problems("not-found")
    def get(self, event_id):
        """One event with its remaining capacity"""
        event = repository.get(event_id)
        if event is None:
            raise NotFound("No event with this id")
        return event

    @blp.auth(role="admin")
    @blp.arguments(EventPatch, example={"capacity": 120, "price": "80.00"})
    @blp.response(200, EventOut)
    @blp.problems(
        "malformed-request", "unsupported-media-type", "payload-too-large", "not-found", "capacity-below-sold"
    )
    def patch(self, body, event_id):
        """Edit an event (admin): any field given at creation, at least one

        Validated as at creation (a date in the past is 422; `remaining`, `created_by` and
        other unknown fields are 422). A capacity change moves `remaining` by the same
        amount; a capacity below the tickets already sold (held by PENDING and PAID orders)
        is 409 `capacity-below-sold`, whose `sold` member says how many. A new price applies
        to future orders only: existing orders and tickets keep the price they were sold at.
        Deleted or unknown events: 404.
        """
        return service.update(event_id, body)

    @blp.auth(role="admin")
    @blp.response(204)
    @blp.problems("not-found")
    def delete(self, event_id):
        """Delete an event (admin): a soft delete

        The event leaves every listing, reads as 404 and can no longer be bought; its
        orders and tickets stay readable by their owners and the payment webhook still
        settles them. Admins see it with `GET /events?include_deleted=true` and can bring
        it back with `POST /events/{event_id}/restore`. Deleting it again: 404.
        """
        if not repository.delete(event_id):
            raise NotFound("No event with this id")
        return None


@blp.route("/events/<uuid:event_id>/restore")
class RestoreEvent(MethodView):
    @blp.auth(role="admin")
    @blp.response(200, EventOut)
    @blp.problems("not-found")
    def post(self, event_id):
        """Undelete an event (admin); an unknown or not deleted event answers 404"""
        event = repository.restore(event_id)
        if event is None:
            raise NotFound("No deleted event with this id")
        return event


@blp.route("/me/events")
class MyEvents(MethodView):
    @blp.auth()
    @blp.response(200, EventOut(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Events the caller created, newest first (ties by id)"""
        rows = repository.list_by_creator(
            security.current_principal().id, **page_window(pagination_parameters)
        )
        return page_items(rows, pagination_parameters)
