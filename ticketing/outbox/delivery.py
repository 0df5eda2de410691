"""The delivery loop: every worker of every instance sends due webhook deliveries from the
database (started per worker by gunicorn.conf.py, like the expiry sweep).

Each round claims a batch (outbox/claim_due: FOR UPDATE SKIP LOCKED, one attempt each,
committed at once), sends each one `POST <url>` signed with its endpoint's secret in the
scheme of the payment webhook, then records every outcome in one statement
(outbox/record_attempts). No connection is held while sending.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from datetime import datetime, timezone
from decimal import Decimal

import orjson

from ticketing import signatures
from ticketing.events import repository as events
from ticketing.events.schemas import EventOut
from ticketing.orders import repository as orders
from ticketing.orders.schemas import OrderOut
from ticketing.outbox import repository, targets
from ticketing.tickets import codes
from ticketing.tickets import repository as tickets
from ticketing.tickets.schemas import TicketOut

log = logging.getLogger("ticketing.webhooks")
BATCH_SIZE = 50
PRUNE_EVERY_SECONDS = 300
PRUNE_BATCH = 5000
ORDER_OUT, EVENT_OUT, TICKET_OUT = OrderOut(), EventOut(), TicketOut()  # ORDER_OUT: the tests' reference


def _time(value):
    """As UtcDateTime shows it (a datetime, or the ISO text a json_build_object holds)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def order_data(row: dict) -> dict:
    """OrderOut().dump(row), written out: an order event is sent for every purchase, and
    marshmallow's per-field machinery would be most of a delivery's CPU. A test keeps the
    two equal (tests/test_outgoing_webhooks.py compares `data` with GET /orders/{id})."""
    tickets = row["tickets"]
    return {
        "id": str(row["id"]),
        "event_id": str(row["event_id"]),
        "user_id": str(row["user_id"]),
        "ticket_type_id": str(row["ticket_type_id"]),
        "ticket_type_name": row["ticket_type_name"],
        "quantity": row["quantity"],
        "unit_price": f"{row['unit_price']:.2f}",
        "total_amount": f"{row['total_amount']:.2f}",
        "currency": row["currency"],
        "status": row["status"],
        "reason": row["reason"],
        "expires_at": _time(row["expires_at"]),
        "late_payment_at": _time(row["late_payment_at"]),
        "created_at": _time(row["created_at"]),
        "updated_at": _time(row["updated_at"]),
        "event": {
            "id": row["event"]["id"],
            "name": row["event"]["name"],
            "date": _time(row["event"]["date"]),
        },
        "tickets": None
        if tickets is None
        else [
            {
                "id": t["id"],
                "price": f"{Decimal(t['price']):.2f}",
                "status": t["status"],
                "checked_in_at": _time(t["checked_in_at"]),
                "holder_id": str(t["holder_id"]),
                "code": codes.shown_to(codes.ORGANISER, t, row["status"])["code"],
            }
            for t in tickets
        ],
    }


def _data(rows: list[dict]) -> list[dict]:
    """Fill in `data` (the resource as the API shows it) where this is the first attempt
    (record_attempts keeps it, so every retry sends the same body); those rows."""
    missing = [row for row in rows if row["data"] is None]
    if not missing:
        return missing
    order_ids = [row["subject_id"] for row in missing if row["type"].startswith("order.")]
    by_id = {o["id"]: order_data(o) for o in orders.get_many(order_ids=order_ids)} if order_ids else {}
    for row in missing:
        subject = row["subject_id"]
        if row["type"].startswith("order."):
            row["data"] = by_id.get(subject)
        elif row["type"].startswith("ticket."):
            ticket = tickets.get(ticket_id=subject)
            row["data"] = ticket and TICKET_OUT.dump(
                codes.shown_to(codes.ORGANISER, ticket, ticket["order_status"])
            )
        else:
            event = events.get(event_id=subject)
            row["data"] = event and EVENT_OUT.dump(event)
        if row["data"] is None:  # gone meanwhile (a deleted event): say which it was
            row["data"] = {"id": str(subject)}
    return missing


def body_of(row: dict) -> bytes:
    created = row["created_at"].astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    event = {"id": str(row["event_id"]), "type": row["type"], "created_at": created, "data": row["data"]}
    # sorted keys: the first attempt and the retries (data read back from jsonb) send the same bytes
    return orjson.dumps(event, option=orjson.OPT_SORT_KEYS)


def lease_seconds(settings) -> int:
    return max(60, 3 * settings.webhook_timeout_seconds + 20)


def deliver_due(settings, sender: targets.Sender) -> int:
    """One round: claim, send, record. Needs an app context. Returns how many were claimed."""
    # The claim is a lease: no one else attempts these rows until it ends. A round stops
    # attempting in time to record its outcomes before then (the rest are handed back).
    lease = lease_seconds(settings)
    stop_at = time.monotonic() + lease - settings.webhook_timeout_seconds - 10
    rows = repository.claim_due(batch_size=BATCH_SIZE, lease_seconds=lease)
    if not rows:
        return 0
    first = {row["id"] for row in _data(rows)}
    checked: dict[str, targets.Target | targets.TargetRefused] = {}  # one DNS look-up per URL and round
    outcomes = {
        "ids": [],
        "attempts": [],
        "statuses": [],
        "errors": [],
        "delivered": [],
        "released": [],
        "data": [],
    }
    unreachable = set()
    for row in rows:
        status, error, released = None, None, False
        if row["endpoint_id"] in unreachable or time.monotonic() > stop_at:
            released = True  # not attempted: its endpoint did not answer earlier in this round
        else:
            try:
                if row["url"] not in checked:
                    try:
                        checked[row["url"]] = targets.resolve(
                            row["url"], settings.webhook_allow_private_targets
                        )
                    except targets.TargetRefused as refused:
                        checked[row["url"]] = refused
                target = checked[row["url"]]
                if isinstance(target, targets.TargetRefused):
                    raise target
                body = body_of(row)
                status = sender.post(
                    target,
                    body,
                    {
                        "Webhook-Id": str(row["event_id"]),
                        signatures.HEADER: signatures.sign(row["secret"], body),
                    },
                )
                if not 200 <= status < 300:
                    error = f"HTTP {status}"
            except targets.TargetRefused as refused:
                error = str(refused)
            except Exception as exc:  # no answer: refused, reset, timed out, TLS...
                error = f"{type(exc).__name__}: {exc}"[:500]
                unreachable.add(row["endpoint_id"])
        outcomes["ids"].append(row["id"])
        outcomes["attempts"].append(row["attempts"])
        outcomes["statuses"].append(status)
        outcomes["errors"].append(error)
        outcomes["delivered"].append(status is not None and 200 <= status < 300)
        outcomes["released"].append(released)
        outcomes["data"].append(
            orjson.dumps(row["data"]).decode() if row["id"] in first and not released else None
        )
    repository.record_attempts(
        **outcomes,
        first_retry_seconds=settings.webhook_retry_first_seconds,
        retry_hours=settings.webhook_retry_hours,
    )
    return len(rows)


def deliver_all_due(settings, sender: targets.Sender) -> int:
    """Rounds until one claims less than a full batch; needs an app context. How many were claimed."""
    total = 0
    while True:
        claimed = deliver_due(settings, sender)
        total += claimed
        if claimed < BATCH_SIZE:
            return total


def prune_log(settings) -> int:
    """Forget deliveries that ended over WEBHOOK_LOG_RETENTION_DAYS ago; needs an app context."""
    total = 0
    while True:
        deleted = repository.prune(retention_days=settings.webhook_log_retention_days, batch_size=PRUNE_BATCH)
        total += deleted
        if deleted < PRUNE_BATCH:
            return total


def start_deliverer(app, stop: threading.Event | None = None) -> threading.Thread | None:
    """Deliver every WEBHOOK_DELIVERY_MS in a daemon thread until `stop` is set (if given);
    a full batch is followed at once by the next one."""
    settings = app.config["SETTINGS"]
    stop = stop or threading.Event()
    interval = settings.webhook_delivery_seconds
    if interval <= 0:
        return None

    def run():
        sender = targets.Sender(settings.webhook_timeout_seconds)
        last_prune = time.monotonic() - PRUNE_EVERY_SECONDS * random.random()
        # jitter, so the workers' rounds spread out instead of colliding
        while not stop.wait(interval * random.uniform(0.5, 1.0)):
            try:
                with app.app_context():
                    deliver_all_due(settings, sender)
                    if time.monotonic() - last_prune > PRUNE_EVERY_SECONDS:
                        prune_log(settings)
                        last_prune = time.monotonic()
            except Exception:  # the database may be down; the next round tries again
                log.warning("webhook delivery round failed; retrying", exc_info=True)
                time.sleep(interval)

    thread = threading.Thread(target=run, name="webhook-deliverer", daemon=True)
    thread.start()
    return thread
