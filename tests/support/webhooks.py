"""Signed payment-webhook calls (Stripe's scheme, as the provider would send them)."""

from __future__ import annotations

import json
import time

from tests.support.samples import WEBHOOK_SECRET
from ticketing import signatures


def signed_headers(body: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> dict:
    return {
        "Content-Type": "application/json",
        signatures.HEADER: signatures.sign(
            secret, body, int(time.time()) if timestamp is None else timestamp
        ),
    }


def post_signed(client, order_id, body: dict, secret: str = WEBHOOK_SECRET, timestamp=None, headers=None):
    """POST the payment webhook with `body` signed by `secret` (through a Flask test client)."""
    raw = json.dumps(body).encode()
    return client.post(
        f"/api/v1/orders/{order_id}/status",
        data=raw,
        headers={**signed_headers(raw, secret, timestamp), **(headers or {})},
    )
