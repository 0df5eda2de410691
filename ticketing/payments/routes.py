"""The payments ledger (admin): what the provider took, and what must go back."""

from flask.views import MethodView

from ticketing import security
from ticketing.api import Blueprint, page_items, page_window
from ticketing.errors import INVALID_TRANSITION, NOT_FOUND
from ticketing.payments import service
from ticketing.payments.schemas import PaymentListArgs, PaymentOut

blp = Blueprint("payments", __name__, description="The payments ledger and refunds due")


@blp.route("/payments")
class Payments(MethodView):
    @blp.auth(roles=security.ADMIN)
    @blp.arguments(PaymentListArgs, location="query")
    @blp.response(200, PaymentOut(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """The ledger, oldest first (ties by id); `?state=refund_due` is what must be paid back"""
        rows = service.list_page(state=args["state"], **page_window(pagination_parameters))
        return page_items(rows, pagination_parameters)


@blp.route("/payments/<uuid:payment_id>/refunded")
class PaymentRefunded(MethodView):
    @blp.auth(roles=security.ADMIN)
    @blp.response(200, PaymentOut)
    @blp.problems(NOT_FOUND, INVALID_TRANSITION)
    def post(self, payment_id):
        """Record that the provider paid a `refund_due` payment back: it becomes `refunded`.

        Repeating it is harmless (200). A `captured` payment (its order stands) answers 409
        `invalid-transition`: refund the order first.
        """
        return service.mark_refunded(payment_id)
