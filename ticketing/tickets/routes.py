"""Tickets: the holder's view and transfers, check-in at the door (by id or by signed
code), what offline scanners need, per-event counts."""

from flask.views import MethodView

from ticketing import security
from ticketing.api import Blueprint, page_items, page_window
from ticketing.errors import (
    ALREADY_CHECKED_IN,
    EVENT_CLOSED,
    INVALID_TICKET_CODE,
    INVALID_TRANSITION,
    MALFORMED_REQUEST,
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    TICKET_CANCELLED,
    TICKET_CODE_REVOKED,
    TICKET_NOT_PAID,
    UNKNOWN_RECIPIENT,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION_ERROR,
    WRONG_EVENT,
)
from ticketing.tickets import service
from ticketing.tickets.schemas import (
    CheckInByCodeIn,
    CheckInOut,
    EventStatsOut,
    PublicKeyOut,
    RevokedCodeOut,
    TicketOut,
    TransferIn,
)

blp = Blueprint("tickets", __name__, description="Tickets: holders, transfers, the door, per-event counts")

CHECK_IN_PROBLEMS = (NOT_FOUND, ALREADY_CHECKED_IN, TICKET_CANCELLED, TICKET_NOT_PAID)


@blp.route("/tickets/<uuid:ticket_id>")
class Ticket(MethodView):
    @blp.auth()
    @blp.response(200, TicketOut)
    @blp.problems(NOT_FOUND)
    def get(self, ticket_id):
        """One ticket with its event and code (its holder, staff, admins)

        The holder is the buyer, or whom the ticket was transferred to; a buyer who gave
        the ticket away no longer sees it here (their order still lists it, with its
        `holder_id` and no code). Anyone else's ticket answers 404, exactly as if it did
        not exist. `code` is null until the order is PAID. Tickets of deleted events
        stay readable.
        """
        return service.visible_ticket(security.current_principal(), ticket_id)


@blp.route("/tickets/<uuid:ticket_id>/transfer")
class TransferTicket(MethodView):
    @blp.auth()
    @blp.arguments(TransferIn, example={"email": "bia@example.com"})
    @blp.response(200, TicketOut)
    @blp.problems(
        MALFORMED_REQUEST,
        UNSUPPORTED_MEDIA_TYPE,
        PAYLOAD_TOO_LARGE,
        NOT_FOUND,
        UNKNOWN_RECIPIENT,
        VALIDATION_ERROR,
        ALREADY_CHECKED_IN,
        TICKET_CANCELLED,
        TICKET_NOT_PAID,
        EVENT_CLOSED,
        INVALID_TRANSITION,
    )
    def post(self, body, ticket_id):
        """Give a ticket you hold to another account (its holder only)

        A VALID ticket of a PAID order, before its event starts, moves to the account
        with that `email`, and its code version goes up in the same statement: every
        code shown before is refused at the door (409 `ticket-code-revoked`). The answer
        is the ticket as you now see it: its new `holder_id`, no code. The recipient
        finds it in `GET /me/tickets`.

        404: no such ticket, or you do not hold it (staff and admins included).
        422 `unknown-recipient`: no account has that email; `validation-error`: it is
        yours. 409: `already-checked-in` (used), `ticket-cancelled`, `ticket-not-paid`,
        `event-closed` (the event started or was deleted).
        """
        return service.transfer(security.current_principal(), ticket_id, body["email"])


@blp.route("/me/tickets")
class MyTickets(MethodView):
    @blp.auth()
    @blp.response(200, TicketOut(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """The tickets you hold, soonest event first (ties by ticket id)

        Tickets of your PAID orders that you kept, and tickets transferred to you, with
        their codes. Unpaid holds are in `GET /orders`; tickets you gave away are not
        yours any more (your order lists them with their `holder_id`).
        """
        rows = service.list_held(security.current_principal(), **page_window(pagination_parameters))
        return page_items(rows, pagination_parameters)


@blp.route("/tickets/<uuid:ticket_id>/check-in")
class CheckIn(MethodView):
    @blp.auth(roles=security.DOOR)
    @blp.response(200, CheckInOut)
    @blp.problems(*CHECK_IN_PROBLEMS)
    def post(self, ticket_id):
        """Check a ticket in at the door by id (staff, admin): a VALID ticket of a PAID order becomes USED

        Exactly once: scanning the same ticket again, even at the same instant from
        another scanner, is 409 `already-checked-in` with a `checked_in_at` member
        carrying the first check-in time. A CANCELLED ticket (rejected, expired or
        cancelled order) is 409 `ticket-cancelled`; a ticket of an order not yet PAID is
        409 `ticket-not-paid`. Unknown tickets: 404.
        """
        return service.check_in(ticket_id)


@blp.route("/check-ins")
class CheckInByCode(MethodView):
    @blp.auth(roles=security.DOOR)
    @blp.arguments(CheckInByCodeIn)
    @blp.response(200, CheckInOut)
    @blp.problems(
        MALFORMED_REQUEST,
        UNSUPPORTED_MEDIA_TYPE,
        PAYLOAD_TOO_LARGE,
        VALIDATION_ERROR,
        INVALID_TICKET_CODE,
        TICKET_CODE_REVOKED,
        WRONG_EVENT,
        *CHECK_IN_PROBLEMS,
    )
    def post(self, body):
        """Check a ticket in by its scanned code (staff, admin)

        422 `invalid-ticket-code` when the code is malformed or its signature is not
        this deployment's (a single changed character is enough); 409
        `ticket-code-revoked` (with `current_version`) when the ticket changed hands
        since the code was shown. With `event_id` (the event this door admits), a
        ticket of another event is 409 `wrong-event` (with the ticket's `event_id`) and
        stays unused. Otherwise exactly `POST /tickets/{id}/check-in`: one scan wins,
        409 `already-checked-in`, `ticket-cancelled`, `ticket-not-paid`.
        """
        return service.check_in_by_code(body["code"], body["event_id"])


@blp.route("/check-in/public-key")
class PublicKey(MethodView):
    @blp.response(200, PublicKeyOut)
    def get(self):
        """The public key that verifies ticket codes, for offline scanners (anyone)

        Ed25519; the key is the raw 32 bytes in standard base64. docs/tickets.md has the
        code format and how to verify one.
        """
        return service.public_key()


@blp.route("/events/<uuid:event_id>/revoked-codes")
class RevokedCodes(MethodView):
    @blp.auth(roles=security.DOOR)
    @blp.response(200, RevokedCodeOut(many=True))
    @blp.paginate()
    @blp.problems(NOT_FOUND)
    def get(self, event_id, pagination_parameters):
        """Revoked code versions of an event's tickets, for offline scanners (staff, admin)

        One entry per ticket that changed hands, by ticket id: a scanner accepts that
        ticket's code only at `current_version` and refuses `revoked_versions`. Tickets
        not listed have only ever had version 1. Fetch every page before the doors open
        and refresh it while scanning (see docs/tickets.md). Unknown or deleted events: 404.
        """
        rows = service.revoked_codes(event_id, **page_window(pagination_parameters))
        return page_items(rows, pagination_parameters)


@blp.route("/events/<uuid:event_id>/stats")
class EventStats(MethodView):
    @blp.auth(roles=security.ADMIN)
    @blp.response(200, EventStatsOut)
    @blp.problems(NOT_FOUND)
    def get(self, event_id):
        """Ticket counts of one event (admin): sold, pending, paid, checked in, cancelled

        `sold` = `pending` + `paid` = `capacity` - `remaining`. Unknown or deleted
        events: 404.
        """
        return service.event_stats(event_id)
