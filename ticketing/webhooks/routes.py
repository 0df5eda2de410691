"""The payment provider's webhook: settle a PENDING order as PAID or REJECTED."""

import hmac

from flask import current_app, request
from flask.views import MethodView

from ticketing import metrics
from ticketing.api import Blueprint
from ticketing.errors import (
    INVALID_TRANSITION,
    INVALID_WEBHOOK_SECRET,
    MALFORMED_REQUEST,
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    PAYMENT_AFTER_EXPIRY,
    SERVICE_UNAVAILABLE,
    UNSUPPORTED_MEDIA_TYPE,
    ServiceUnavailable,
    Unauthorized,
)
from ticketing.orders import service
from ticketing.orders.schemas import SettleIn

blp = Blueprint("webhooks", __name__, description="Payment provider callbacks")

# ticketing_webhook_deliveries_total{result}, by the status the provider got back.
_RESULTS = {401: "unauthorized", 404: "not_found", 409: "conflict", 503: "unavailable"}
_RESULTS.update(dict.fromkeys((400, 413, 415, 422), "invalid"))


@blp.after_request
def _count_delivery(response):
    status = response.status_code
    result = "accepted" if status < 300 else _RESULTS.get(status, "error")
    metrics.count(metrics.WEBHOOK_DELIVERIES.labels(result))
    return response


def require_webhook_secret():
    expected = current_app.config["SETTINGS"].webhook_secret
    if not expected:
        raise ServiceUnavailable("The payment webhook is not configured (WEBHOOK_SECRET)")
    given = request.headers.get("X-Webhook-Secret", "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("Missing or wrong X-Webhook-Secret", kind=INVALID_WEBHOOK_SECRET, headers={})


@blp.route("/orders/<uuid:order_id>/status")
class OrderStatus(MethodView):
    @blp.guard(require_webhook_secret, [INVALID_WEBHOOK_SECRET, SERVICE_UNAVAILABLE], {"webhookSecret": []})
    @blp.arguments(SettleIn, example={"status": "REJECTED", "reason": "card declined"})
    @blp.response(204)
    @blp.problems(
        MALFORMED_REQUEST,
        UNSUPPORTED_MEDIA_TYPE,
        NOT_FOUND,
        INVALID_TRANSITION,
        PAYMENT_AFTER_EXPIRY,
        PAYLOAD_TOO_LARGE,
    )
    def post(self, body, order_id):
        """Settle an order (payment provider only, `X-Webhook-Secret`).

        PENDING → PAID, or PENDING → REJECTED (its tickets are cancelled and their capacity
        returns to the event, in the same transaction). Repeating the current status is a
        harmless 204, so provider retries are safe; PAID ↔ REJECTED is 409
        `invalid-transition`. PAID for an EXPIRED order re-reserves its tickets if the event
        still has them (204), else answers 409 `payment-after-expiry` and records the late
        payment on the order; REJECTED for an EXPIRED or CANCELLED order changes nothing (204).
        """
        service.settle(order_id, body["status"], body["reason"])
        return None
