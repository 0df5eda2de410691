"""The payment provider's webhook: settle a PENDING order as PAID or REJECTED."""

import hmac

from flask import current_app, request
from flask.views import MethodView

from ticketing import metrics, signatures
from ticketing.api import Blueprint
from ticketing.errors import (
    AMOUNT_MISMATCH,
    INVALID_TRANSITION,
    INVALID_WEBHOOK_SECRET,
    INVALID_WEBHOOK_SIGNATURE,
    MALFORMED_REQUEST,
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    PAYMENT_AFTER_EXPIRY,
    PAYMENT_ID_REUSED,
    SERVICE_UNAVAILABLE,
    UNSUPPORTED_MEDIA_TYPE,
    ServiceUnavailable,
    Unauthorized,
)
from ticketing.orders.schemas import SettleIn
from ticketing.payments import service

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


def require_webhook_signature():
    """The caller is the payment provider: a valid `Webhook-Signature` over the raw body
    (checked before anything parses it), or, unless WEBHOOK_REQUIRE_SIGNATURE, the
    original static `X-Webhook-Secret`."""
    settings = current_app.config["SETTINGS"]
    secrets = settings.webhook_secrets
    if not secrets:
        raise ServiceUnavailable("The payment webhook is not configured (WEBHOOK_SECRET)")
    legacy = request.headers.get("X-Webhook-Secret")
    signed = signatures.HEADER in request.headers
    if not signed and legacy is not None and not settings.webhook_require_signature:
        given = legacy.encode()
        matched = False
        for secret in secrets:
            matched |= hmac.compare_digest(given, secret.encode())
        if not matched:
            raise Unauthorized("Wrong X-Webhook-Secret", kind=INVALID_WEBHOOK_SECRET, headers={})
        return
    # The raw bytes, as sent (cached: the body parser reads the same bytes afterwards).
    body = request.get_data(cache=True)
    why = signatures.verify(
        request.headers.get(signatures.HEADER), body, secrets, settings.webhook_tolerance_seconds
    )
    if why is not None:
        raise Unauthorized(why, kind=INVALID_WEBHOOK_SIGNATURE, headers={})


@blp.route("/orders/<uuid:order_id>/status")
class OrderStatus(MethodView):
    @blp.guard(
        require_webhook_signature,
        [INVALID_WEBHOOK_SIGNATURE, INVALID_WEBHOOK_SECRET, SERVICE_UNAVAILABLE],
        [{"webhookSignature": []}, {"webhookSecret": []}],
    )
    @blp.arguments(
        SettleIn,
        example={"status": "PAID", "payment_id": "pay_3f9a1c5e", "amount": "200.00", "currency": "BRL"},
    )
    @blp.response(204)
    @blp.problems(
        MALFORMED_REQUEST,
        UNSUPPORTED_MEDIA_TYPE,
        NOT_FOUND,
        INVALID_TRANSITION,
        PAYMENT_AFTER_EXPIRY,
        AMOUNT_MISMATCH,
        PAYMENT_ID_REUSED,
        PAYLOAD_TOO_LARGE,
    )
    def post(self, body, order_id):
        """Settle an order (payment provider only: `Webhook-Signature`, or `X-Webhook-Secret`).

        The signature is checked over the raw body before it is parsed: missing, wrong
        or stale (`t` more than `WEBHOOK_TOLERANCE_SECONDS` away) is 401
        `invalid-webhook-signature`. The static `X-Webhook-Secret` of the original
        service still works unless `WEBHOOK_REQUIRE_SIGNATURE=true` (wrong: 401
        `invalid-webhook-secret`).

        PENDING → PAID (its payment enters the ledger as `captured`), or PENDING → REJECTED
        (its tickets are cancelled and their capacity returns to the event), in one
        transaction with the delivery's record. `amount` or `currency` differing from the
        order's: 409 `amount-mismatch`, the order unchanged. A `payment_id` seen before for
        this order gets the first answer again; for another order, 409 `payment-id-reused`.
        Without a `payment_id`, repeating the current status is a harmless 204. PAID ↔
        REJECTED is 409 `invalid-transition`. PAID for an EXPIRED order re-reserves its
        tickets if the event still has them (204), else 409 `payment-after-expiry`. A PAID
        that cannot be honoured (CANCELLED, REJECTED, REFUNDED, or EXPIRED without tickets
        left) still answers 409, and its payment is recorded `refund_due`
        (`GET /payments?state=refund_due`). REJECTED for an EXPIRED or CANCELLED order
        changes nothing (204). See docs/payments.md.
        """
        service.settle(order_id, service.Verdict(**body))
        return None
