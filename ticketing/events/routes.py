"""Events: admins publish them, everyone browses them."""

from flask import current_app
from flask.views import MethodView

from ticketing import security
from ticketing.api import Blueprint, page_items, page_window
from ticketing.errors import NotFound
from ticketing.events import repository
from ticketing.events.schemas import EVENT_EXAMPLE, EventIn, EventListArgs, EventOut

blp = Blueprint("events", __name__, description="Events and their remaining capacity")


@blp.route("/events")
class Events(MethodView):
    @blp.arguments(EventListArgs, location="query")
    @blp.response(200, EventOut(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Upcoming events, soonest first (ties by id); `include_past=true` adds past ones"""
        rows = repository.list_page(args["include_past"], **page_window(pagination_parameters))
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
