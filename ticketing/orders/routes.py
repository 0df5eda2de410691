"""Orders: buy tickets, list and read your orders, cancel a pending one."""

from flask import request
from flask.views import MethodView

from ticketing import security
from ticketing.api import Blueprint, page_items, page_window
from ticketing.errors import (
    EVENT_CLOSED,
    IDEMPOTENCY_KEY_REUSED,
    INVALID_TRANSITION,
    MALFORMED_REQUEST,
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    PER_USER_LIMIT,
    QUEUE_PASS_REQUIRED,
    SALE_NOT_STARTED,
    SERVICE_UNAVAILABLE,
    SOLD_OUT,
    TICKET_ALREADY_USED,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION_ERROR,
    ApiError,
)
from ticketing.orders import service
from ticketing.orders.fastlane import OUTCOME
from ticketing.orders.schemas import OrderOut, PurchaseHeaders, PurchaseIn, RefundIn, order_location

blp = Blueprint("orders", __name__, description="Buying tickets")

LOCATION = {"Location": {"description": "URL of the order", "schema": {"type": "string"}}}
REPLAYED = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the same key",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


@blp.route("/orders")
class Orders(MethodView):
    @blp.auth(revocation_in_sql=True)  # the hot path: purchase.sql checks the token version
    @blp.arguments(PurchaseHeaders, location="headers")
    @blp.arguments(PurchaseIn, example={"event_id": "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f", "quantity": 2})
    @blp.response(201, OrderOut, headers={**LOCATION, **REPLAYED})
    @blp.problems(
        MALFORMED_REQUEST,
        UNSUPPORTED_MEDIA_TYPE,
        NOT_FOUND,
        QUEUE_PASS_REQUIRED,
        SOLD_OUT,
        EVENT_CLOSED,
        SALE_NOT_STARTED,
        PER_USER_LIMIT,
        VALIDATION_ERROR,
        IDEMPOTENCY_KEY_REUSED,
        PAYLOAD_TOO_LARGE,
        SERVICE_UNAVAILABLE,
    )
    def post(self, headers, body):
        """Buy tickets: a PENDING order holding `quantity` tickets until it is paid or its hold expires.

        `ticket_type_id` picks one of the event's `ticket_types` (default: its first); the
        order's `unit_price` is that type's price. 404 when the event does not exist or the
        type is not one of its types; 409 `sold-out` (with `remaining`) when fewer tickets
        are left than asked, of the type or of the event (`remaining` is what is left of
        the one that ran out); 409 `event-closed` once the event has started;
        409 `sale-not-started` (with `sale_starts_at`) before the event's sale start;
        409 `per-user-limit` (with `allowed`, how many more you may buy) when your PENDING
        and PAID tickets for the event plus `quantity` exceed its `max_per_user`;
        403 `queue-pass-required` when the event has a waiting room and the `Queue-Pass`
        header is missing, unknown, expired, used, or not yours for this event (the detail
        says which); 422 when `quantity` exceeds the event's or the type's `max_per_order`, or
        `idempotency-key-reused` when an `Idempotency-Key` is reused with a different body.
        All of these are checked inside the one purchase statement.
        503 `service-unavailable` (with `Retry-After`) when the database is unavailable or
        busy, or when this purchase waited in line for its event's next batch longer than
        `PURCHASE_BATCH_WAIT_MS` (purchases of one event arriving together are sold by one
        statement): retry with the same `Idempotency-Key`; a purchase that did go through
        is then answered again, never bought twice.
        """
        principal = security.current_principal()
        # the purchase lane (ticketing/orders/fastlane.py) may have run it already: its outcome, once
        answer = request.environ.pop(OUTCOME, None)
        if isinstance(answer, BaseException):
            raise answer
        if answer is None:
            answer = service.purchase(
                principal,
                event_id=body["event_id"],
                quantity=body["quantity"],
                ticket_type_id=body["ticket_type_id"],
                idempotency_key=headers["idempotency_key"],
                queue_pass=headers["queue_pass"],
            )
        response_headers = {"Idempotent-Replayed": "true"} if answer.replayed else {}
        if answer.problem is not None:
            raise ApiError.from_body(answer.problem, headers=response_headers)
        response_headers["Location"] = order_location(answer.order["id"])
        return service.shown(principal, answer.order), 201, response_headers

    @blp.auth()
    @blp.response(200, OrderOut(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """The caller's orders, newest first (ties by id), each with its event and tickets"""
        rows = service.list_mine(security.current_principal(), **page_window(pagination_parameters))
        return page_items(rows, pagination_parameters)


@blp.route("/orders/<uuid:order_id>")
class Order(MethodView):
    @blp.auth()
    @blp.response(200, OrderOut)
    @blp.problems(NOT_FOUND)
    def get(self, order_id):
        """One of the caller's orders (admins: any order); anyone else's answers 404"""
        return service.visible_order(security.current_principal(), order_id)


@blp.route("/orders/<uuid:order_id>/cancel")
class CancelOrder(MethodView):
    @blp.auth()
    @blp.response(200, OrderOut)
    @blp.problems(NOT_FOUND, INVALID_TRANSITION)
    def post(self, order_id):
        """Cancel your own PENDING order; its tickets go back on sale.

        PAID, REJECTED, EXPIRED or already CANCELLED orders answer 409 `invalid-transition`
        (a PAID order is refunded by an admin: `POST /orders/{id}/refund`); someone else's
        order answers 404.
        """
        return service.cancel(security.current_principal(), order_id)


@blp.route("/orders/<uuid:order_id>/refund")
class RefundOrder(MethodView):
    @blp.auth(roles=security.ADMIN)
    @blp.arguments(RefundIn, example={"reason": "the show was moved"})
    @blp.response(200, OrderOut)
    @blp.problems(
        MALFORMED_REQUEST,
        UNSUPPORTED_MEDIA_TYPE,
        NOT_FOUND,
        INVALID_TRANSITION,
        TICKET_ALREADY_USED,
        PAYLOAD_TOO_LARGE,
    )
    def post(self, body, order_id):
        """Refund a PAID order (admin): it becomes REFUNDED, its tickets CANCELLED and back on sale.

        In one transaction: the order becomes `REFUNDED` (with `reason`), its VALID
        tickets `CANCELLED`, their capacity returns to the event, and its payment becomes
        `refund_due` until the provider has paid it back (`POST /payments/{id}/refunded`).
        An order with a checked-in ticket: 409 `ticket-already-used` (with `used_tickets`);
        any state but PAID: 409 `invalid-transition`.
        """
        # the order as the admin sees it (codes: null, its tickets are cancelled)
        return service.shown(security.current_principal(), service.refund(order_id, body["reason"]))
