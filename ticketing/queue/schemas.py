from datetime import timezone

import orjson
from marshmallow import fields, validate

from ticketing.api import Schema, UtcDateTime

STATUSES = ["waiting", "admitted", "purchased", "expired", "sold_out"]


class QueueEntryOut(Schema):
    event_id = fields.UUID(required=True)
    status = fields.String(
        required=True,
        validate=validate.OneOf(STATUSES),
        metadata={
            "description": "`waiting` for your turn; `admitted`: buy with `pass` before `pass_expires_at`; "
            "`purchased`: the pass was used; `expired`: the pass ran out (join again, at the back); "
            "`sold_out`: waiting, but no tickets are left right now (you keep your place and go back to "
            "`waiting` if tickets come back)"
        },
    )
    position = fields.Integer(
        required=True,
        allow_none=True,
        metadata={
            "description": "While waiting after the sale start: your 1-based place among those not yet "
            "admitted (1 = next). Null before the start (the early arrivals' order is drawn at the "
            "start) and in every other status."
        },
    )
    joined_at = UtcDateTime(required=True)
    admitted_at = UtcDateTime(required=True, allow_none=True)
    pass_ = fields.String(
        data_key="pass",
        attribute="pass",
        required=True,
        allow_none=True,
        metadata={
            "description": "While admitted and unused: send it as the `Queue-Pass` header of `POST /orders`. "
            "Null otherwise."
        },
    )
    pass_expires_at = UtcDateTime(required=True, allow_none=True)


def _utc(moment):
    """UtcDateTime's output, written out (PostgreSQL's timestamptz comes back aware)."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def entry_json(entry: dict) -> bytes:
    """`QueueEntryOut().dump(entry)` as JSON, byte for byte, without marshmallow: joining
    and polling are the waiting room's hot paths, and the dump cost more than the rest of
    the view (tests/test_queue.py compares the two on every status)."""
    return orjson.dumps(
        {
            "event_id": str(entry["event_id"]),
            "status": entry["status"],
            "position": entry["position"],
            "joined_at": _utc(entry["joined_at"]),
            "admitted_at": _utc(entry["admitted_at"]),
            "pass": entry["pass"],
            "pass_expires_at": _utc(entry["pass_expires_at"]),
        }
    )


class QueueStatsOut(Schema):
    waiting = fields.Integer(required=True, metadata={"description": "Waiting (sold-out ones included)"})
    admitted = fields.Integer(required=True, metadata={"description": "Admitted with a valid, unused pass"})
    purchased = fields.Integer(required=True)
    expired = fields.Integer(required=True, metadata={"description": "Admitted, but the pass ran out unused"})
    admit_per_minute = fields.Integer(required=True)
