"""Outgoing webhooks (admin): endpoints that receive events, and their delivery logs."""

from flask.views import MethodView

from ticketing import security
from ticketing.api import Blueprint, page_items, page_window
from ticketing.errors import MALFORMED_REQUEST, NOT_FOUND, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE
from ticketing.outbox import service
from ticketing.outbox.schemas import DeliveryOut, EndpointCreatedOut, EndpointIn, EndpointOut, EndpointPatch

blp = Blueprint("webhook-endpoints", __name__, description="Outgoing webhooks (docs/webhooks.md)")
BODY_PROBLEMS = (MALFORMED_REQUEST, UNSUPPORTED_MEDIA_TYPE, PAYLOAD_TOO_LARGE)


@blp.route("/webhook-endpoints")
class Endpoints(MethodView):
    @blp.auth(roles=security.ADMIN)
    @blp.arguments(EndpointIn, example={"url": "https://tickets.example.com/hooks", "events": ["order.paid"]})
    @blp.response(201, EndpointCreatedOut)
    @blp.problems(*BODY_PROBLEMS)
    def post(self, body):
        """Register an endpoint; the answer carries its signing `secret`, shown this once.

        Deliveries are `POST <url>` with `{id, type, created_at, data}` and the headers
        `Webhook-Id` and `Webhook-Signature` (docs/webhooks.md). A URL that is not
        http(s), or whose host resolves to a loopback or private address (unless
        WEBHOOK_ALLOW_PRIVATE_TARGETS), is 422.
        """
        return service.create_endpoint(url=body["url"], events=body["events"])

    @blp.auth(roles=security.ADMIN)
    @blp.response(200, EndpointOut(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """The endpoints, oldest first (ties by id), without their secrets"""
        return page_items(service.list_endpoints(**page_window(pagination_parameters)), pagination_parameters)


@blp.route("/webhook-endpoints/<uuid:endpoint_id>")
class Endpoint(MethodView):
    @blp.auth(roles=security.ADMIN)
    @blp.response(200, EndpointOut)
    @blp.problems(NOT_FOUND)
    def get(self, endpoint_id):
        """One endpoint, without its secret"""
        return service.get_endpoint(endpoint_id)

    @blp.auth(roles=security.ADMIN)
    @blp.arguments(EndpointPatch, example={"disabled": True})
    @blp.response(200, EndpointOut)
    @blp.problems(NOT_FOUND, *BODY_PROBLEMS)
    def patch(self, body, endpoint_id):
        """Change an endpoint's `url` or `events`, or disable it (`disabled: true`: deliveries
        wait until it is enabled again)"""
        return service.update_endpoint(endpoint_id, body)

    @blp.auth(roles=security.ADMIN)
    @blp.response(204)
    @blp.problems(NOT_FOUND)
    def delete(self, endpoint_id):
        """Remove an endpoint and its delivery log; nothing more is sent to it"""
        service.delete_endpoint(endpoint_id)


@blp.route("/webhook-endpoints/<uuid:endpoint_id>/deliveries")
class Deliveries(MethodView):
    @blp.auth(roles=security.ADMIN)
    @blp.response(200, DeliveryOut(many=True))
    @blp.paginate()
    @blp.problems(NOT_FOUND)
    def get(self, endpoint_id, pagination_parameters):
        """The endpoint's delivery log, newest first (ties by id)

        Each delivery: its event (`event_id`, `type`), attempts, last status and error,
        next attempt, delivered or failed time.
        """
        rows = service.list_deliveries(endpoint_id, **page_window(pagination_parameters))
        return page_items(rows, pagination_parameters)


@blp.route("/webhook-endpoints/<uuid:endpoint_id>/deliveries/<uuid:delivery_id>/retry")
class RetryDelivery(MethodView):
    @blp.auth(roles=security.ADMIN)
    @blp.response(200, DeliveryOut)
    @blp.problems(NOT_FOUND)
    def post(self, endpoint_id, delivery_id):
        """Send a delivery again now (failed, pending or delivered)

        It gets a fresh WEBHOOK_RETRY_HOURS of retries; consumers dedupe by `Webhook-Id`.
        """
        return service.retry_delivery(endpoint_id, delivery_id)
