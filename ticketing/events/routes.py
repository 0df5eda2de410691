"""Events: admins publish them, everyone browses them."""

from flask.views import MethodView

from ticketing import security
from ticketing.api import Blueprint, page_items, page_window
from ticketing.errors import (
    CAPACITY_BELOW_SOLD,
    FORBIDDEN,
    LAST_TICKET_TYPE,
    MALFORMED_REQUEST,
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    TICKET_TYPE_IN_USE,
    TICKET_TYPE_NAME_TAKEN,
    TOO_MANY_TICKET_TYPES,
    UNAUTHORIZED,
    UNSUPPORTED_MEDIA_TYPE,
)
from ticketing.events import service
from ticketing.events.schemas import (
    EVENT_EXAMPLE,
    EventIn,
    EventListArgs,
    EventOut,
    EventPatch,
    TicketTypeIn,
    TicketTypeOut,
    TicketTypePatch,
)

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
        """Publish an event (admin)

        `ticket_types` (optional, 1 to 20, names unique) lists the kinds of ticket sold,
        first one first; without it the event gets one type, `General`, with its `price`
        and `capacity`. The event's `price` is its first type's (omit it, or give the same);
        its `capacity` stays the venue's overall cap, which type capacities may add up to
        more than (docs/ticket-types.md).
        """
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
        Ticket types: a new `price` is also the first type's price; on an event with one
        type, that type's `capacity` (and `remaining`) and `max_per_order` follow the
        event's too. `ticket_types` are edited through `/events/{event_id}/ticket-types`.
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


TYPE_EXAMPLE = {"name": "VIP", "price": "250.00", "capacity": 500, "max_per_order": 4}


@blp.route("/events/<uuid:event_id>/ticket-types")
class TicketTypes(MethodView):
    @blp.auth(roles=security.ADMIN)
    @blp.arguments(TicketTypeIn, example=TYPE_EXAMPLE)
    @blp.response(201, TicketTypeOut)
    @blp.problems(
        MALFORMED_REQUEST,
        UNSUPPORTED_MEDIA_TYPE,
        PAYLOAD_TOO_LARGE,
        NOT_FOUND,
        TOO_MANY_TICKET_TYPES,
        TICKET_TYPE_NAME_TAKEN,
    )
    def post(self, body, event_id):
        """Add a ticket type to an event (admin), last in its list

        All of its capacity is for sale (within the event's own remaining capacity).
        A name the event already uses: 409 `ticket-type-name-taken`; an event with 20 types: 409
        `too-many-ticket-types`; an unknown or deleted event: 404.
        """
        return service.add_ticket_type(event_id, body)


@blp.route("/events/<uuid:event_id>/ticket-types/<uuid:type_id>")
class TicketType(MethodView):
    @blp.auth(roles=security.ADMIN)
    @blp.arguments(TicketTypePatch, example={"capacity": 600, "price": "230.00"})
    @blp.response(200, TicketTypeOut)
    @blp.problems(
        MALFORMED_REQUEST,
        UNSUPPORTED_MEDIA_TYPE,
        PAYLOAD_TOO_LARGE,
        NOT_FOUND,
        CAPACITY_BELOW_SOLD,
        TICKET_TYPE_NAME_TAKEN,
    )
    def patch(self, body, event_id, type_id):
        """Edit a ticket type (admin): name, price, capacity, max_per_order

        A capacity change moves its `remaining` by the same amount; below what is sold of
        the type (PENDING and PAID orders) it is 409 `capacity-below-sold` with `sold`. A
        new price applies to future orders only; on the event's first type it is also the
        event's `price`; `max_per_order: null` sets the event's. A name another type of the
        event has: 409 `ticket-type-name-taken`. Not a type of this
        (live) event: 404.
        """
        return service.update_ticket_type(event_id, type_id, body)

    @blp.auth(roles=security.ADMIN)
    @blp.response(204)
    @blp.problems(NOT_FOUND, TICKET_TYPE_IN_USE, LAST_TICKET_TYPE)
    def delete(self, event_id, type_id):
        """Delete a ticket type (admin) that no order was ever placed for

        An order of any status (even expired or cancelled) keeps its type, so a type that
        had one is 409 `ticket-type-in-use` (set its capacity to what is sold instead, to
        stop selling it); the event's only type is 409 `last-ticket-type`. When the first
        type goes, the next becomes the default and sets the event's `price`.
        """
        service.delete_ticket_type(event_id, type_id)
