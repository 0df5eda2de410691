"""Events: admins publish them, everyone browses them."""

from flask.views import MethodView

from ticketing import security
from ticketing.api import Blueprint, page_items, page_window
from ticketing.errors import (
    CAPACITY_BELOW_SOLD,
    FORBIDDEN,
    MALFORMED_REQUEST,
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    UNAUTHORIZED,
    UNSUPPORTED_MEDIA_TYPE,
)
from ticketing.events import service
from ticketing.events.schemas import EVENT_EXAMPLE, EventIn, EventListArgs, EventOut, EventPatch

blp = Blueprint("events", __name__, description="Events and their remaining capacity")


@blp.route("/events")
class Events(MethodView):
    @blp.arguments(EventListArgs, location="query")
    @blp.response(200, EventOut(many=True))
    @blp.paginate()
    @blp.problems(UNAUTHORIZED, FORBIDDEN)
    @blp.doc(security=[{}, {"bearerAuth": []}])  # a token is optional (needed for include_deleted)
    def get(self, args, pagination_parameters):
        """Upcoming events, soonest first (ties by id); `include_past=true` adds past ones

        `include_deleted=true` (admins only, with their bearer token) adds deleted events,
        which carry `deleted_at`; without a token it answers 401, for a user 403.
        """
        if args["include_deleted"]:
            security.authenticate(security.ADMIN)
        rows = service.list_page(
            include_past=args["include_past"],
            include_deleted=args["include_deleted"],
            **page_window(pagination_parameters),
        )
        return page_items(rows, pagination_parameters)

    @blp.auth(roles=security.ADMIN)
    @blp.arguments(EventIn, example=EVENT_EXAMPLE)
    @blp.response(201, EventOut)
    @blp.problems(MALFORMED_REQUEST, UNSUPPORTED_MEDIA_TYPE, PAYLOAD_TOO_LARGE)
    def post(self, body):
        """Publish an event (admin)"""
        return service.create(security.current_principal(), body)


@blp.route("/events/<uuid:event_id>")
class Event(MethodView):
    @blp.response(200, EventOut)
    @blp.problems(NOT_FOUND)
    def get(self, event_id):
        """One event with its remaining capacity"""
        return service.get(event_id)

    @blp.auth(roles=security.ADMIN)
    @blp.arguments(EventPatch, example={"capacity": 120, "price": "80.00"})
    @blp.response(200, EventOut)
    @blp.problems(
        MALFORMED_REQUEST, UNSUPPORTED_MEDIA_TYPE, PAYLOAD_TOO_LARGE, NOT_FOUND, CAPACITY_BELOW_SOLD
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

    @blp.auth(roles=security.ADMIN)
    @blp.response(204)
    @blp.problems(NOT_FOUND)
    def delete(self, event_id):
        """Delete an event (admin): a soft delete

        The event leaves every listing, reads as 404 and can no longer be bought; its
        orders and tickets stay readable by their owners and the payment webhook still
        settles them. Admins see it with `GET /events?include_deleted=true` and can bring
        it back with `POST /events/{event_id}/restore`. Deleting it again: 404.
        """
        service.delete(event_id)


@blp.route("/events/<uuid:event_id>/restore")
class RestoreEvent(MethodView):
    @blp.auth(roles=security.ADMIN)
    @blp.response(200, EventOut)
    @blp.problems(NOT_FOUND)
    def post(self, event_id):
        """Undelete an event (admin); an unknown or not deleted event answers 404"""
        return service.restore(event_id)


@blp.route("/me/events")
class MyEvents(MethodView):
    @blp.auth()
    @blp.response(200, EventOut(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Events the caller created, newest first (ties by id)"""
        rows = service.list_mine(security.current_principal(), **page_window(pagination_parameters))
        return page_items(rows, pagination_parameters)
