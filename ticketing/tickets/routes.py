"""Tickets: check-in at the door, the owner's view of one ticket, per-event counts."""

from flask.views import MethodView

from ticketing import security
from ticketing.api import Blueprint
from ticketing.errors import ALREADY_CHECKED_IN, NOT_FOUND, TICKET_CANCELLED, TICKET_NOT_PAID
from ticketing.tickets import service
from ticketing.tickets.schemas import CheckInOut, EventStatsOut, TicketOut

blp = Blueprint("tickets", __name__, description="Tickets at the door and per-event counts")


@blp.route("/tickets/<uuid:ticket_id>")
class Ticket(MethodView):
    @blp.auth()
    @blp.response(200, TicketOut)
    @blp.problems(NOT_FOUND)
    def get(self, ticket_id):
        """One ticket with its event; only its owner (the order's buyer) and admins see it

        Anyone else's ticket answers 404, exactly as if it did not exist. Tickets of
        deleted events stay readable.
        """
        return service.visible_ticket(security.current_principal(), ticket_id)


@blp.route("/tickets/<uuid:ticket_id>/check-in")
class CheckIn(MethodView):
    @blp.auth(role="admin")
    @blp.response(200, CheckInOut)
    @blp.problems(NOT_FOUND, ALREADY_CHECKED_IN, TICKET_CANCELLED, TICKET_NOT_PAID)
    def post(self, ticket_id):
        """Check a ticket in at the door (admin): a VALID ticket of a PAID order becomes USED

        Exactly once: scanning the same ticket again, even at the same instant from
        another scanner, is 409 `already-checked-in` with a `checked_in_at` member
        carrying the first check-in time. A CANCELLED ticket (rejected, expired or
        cancelled order) is 409 `ticket-cancelled`; a ticket of an order not yet PAID is
        409 `ticket-not-paid`. Unknown tickets: 404.
        """
        return service.check_in(ticket_id)


@blp.route("/events/<uuid:event_id>/stats")
class EventStats(MethodView):
    @blp.auth(role="admin")
    @blp.response(200, EventStatsOut)
    @blp.problems(NOT_FOUND)
    def get(self, event_id):
        """Ticket counts of one event (admin): sold, pending, paid, checked in, cancelled

        `sold` = `pending` + `paid` = `capacity` - `remaining`. Unknown or deleted
        events: 404.
        """
        return service.event_stats(event_id)
