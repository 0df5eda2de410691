"""The payment webhook's signature (Stripe's scheme): checked over the raw bytes before the
body is parsed, any of several secrets, within a time tolerance, in constant time."""

import json
import time

import pytest

from tests.support.samples import WEBHOOK, WEBHOOK_SECRET
from tests.support.webhooks import post_signed, signed_headers
from ticketing import signatures

ROTATED = "the-next-webhook-secret-value"


def status_of(sql, order_id):
    return sql.value("SELECT status FROM orders WHERE id = %s", (order_id,))


@pytest.fixture
def order(make_event, buy):
    return buy(make_event()["id"], 1).json


def test_valid_signature_settles(client, order, sql):
    assert post_signed(client, order["id"], {"status": "PAID"}).status_code == 204
    assert status_of(sql, order["id"]) == "PAID"


@pytest.mark.parametrize(
    "secret, timestamp_offset, why",
    [
        ("wrong-secret-value-123", 0, "wrong secret"),
        # well outside the 300 s tolerance: int(time.time()) drops up to a second, and a
        # slow request on a busy machine another, so +301 could land inside it
        (WEBHOOK_SECRET, -330, "stale t"),
        (WEBHOOK_SECRET, +330, "future t"),
    ],
)
def test_bad_signatures_are_401(client, order, sql, secret, timestamp_offset, why):
    response = post_signed(
        client, order["id"], {"status": "PAID"}, secret, int(time.time()) + timestamp_offset
    )
    assert response.status_code == 401, why
    assert response.json["type"] == "/problems/invalid-webhook-signature"
    assert response.headers["Content-Type"] == "application/problem+json"
    assert status_of(sql, order["id"]) == "PENDING"


def test_within_the_tolerance_is_accepted(client, order, sql):
    response = post_signed(client, order["id"], {"status": "PAID"}, timestamp=int(time.time()) - 290)
    assert response.status_code == 204


def test_tolerance_is_a_setting(make_app, order, sql):
    strict = make_app(webhook_tolerance_seconds=5).test_client()
    old = int(time.time()) - 30
    assert post_signed(strict, order["id"], {"status": "PAID"}, timestamp=old).status_code == 401
    assert status_of(sql, order["id"]) == "PENDING"


def test_body_changed_after_signing_is_401(client, order, sql):
    signed = json.dumps({"status": "REJECTED"}).encode()
    tampered = json.dumps({"status": "PAID"}).encode()
    response = client.post(
        f"/api/v1/orders/{order['id']}/status", data=tampered, headers=signed_headers(signed)
    )
    assert response.status_code == 401
    assert response.json["type"] == "/problems/invalid-webhook-signature"
    assert status_of(sql, order["id"]) == "PENDING"


def test_whitespace_counts_the_signature_is_over_raw_bytes(client, order, sql):
    raw = b'{"status":   "PAID"}'
    headers = signed_headers(raw)
    reformatted = json.dumps(json.loads(raw)).encode()
    assert (
        client.post(f"/api/v1/orders/{order['id']}/status", data=reformatted, headers=headers).status_code
        == 401
    )
    assert client.post(f"/api/v1/orders/{order['id']}/status", data=raw, headers=headers).status_code == 204


def test_rotation_any_configured_secret_and_any_v1_entry(make_app, make_event, buy, sql):
    rotating = make_app(webhook_secret=f"{WEBHOOK_SECRET}, {ROTATED}").test_client()
    event = make_event()
    old, new, both = (buy(event["id"], 1).json for _ in range(3))
    assert post_signed(rotating, old["id"], {"status": "PAID"}, WEBHOOK_SECRET).status_code == 204
    assert post_signed(rotating, new["id"], {"status": "PAID"}, ROTATED).status_code == 204
    # The provider signs with an unknown secret and ours: one matching entry is enough.
    raw = json.dumps({"status": "PAID"}).encode()
    t = str(int(time.time()))
    header = (
        f"t={t},v1={signatures.digest('unknown-secret-000', t, raw)},v1={signatures.digest(ROTATED, t, raw)}"
    )
    response = rotating.post(
        f"/api/v1/orders/{both['id']}/status",
        data=raw,
        headers={"Content-Type": "application/json", "Webhook-Signature": header},
    )
    assert response.status_code == 204
    # The retired secret no longer works once it is removed from WEBHOOK_SECRET.
    retired = make_app(webhook_secret=ROTATED).test_client()
    late = buy(event["id"], 1).json
    assert post_signed(retired, late["id"], {"status": "PAID"}, WEBHOOK_SECRET).status_code == 401


@pytest.mark.parametrize(
    "header",
    ["", "garbage", "t=abc,v1=00", "v1=" + "0" * 64, "t=1700000000", "t=,v1=", "t=-5,v1=" + "0" * 64],
)
def test_malformed_signature_headers_are_401(client, order, header):
    response = client.post(
        f"/api/v1/orders/{order['id']}/status",
        json={"status": "PAID"},
        headers={"Webhook-Signature": header},
    )
    assert response.status_code == 401
    assert response.json["type"] == "/problems/invalid-webhook-signature"


def test_missing_signature_is_401(client, order):
    response = client.post(f"/api/v1/orders/{order['id']}/status", json={"status": "PAID"})
    assert response.status_code == 401
    assert response.json["type"] == "/problems/invalid-webhook-signature"


def test_signature_is_checked_before_the_body_is_parsed(client, order):
    for body in (b"not json", b'{"bogus": 1}'):
        response = client.post(
            f"/api/v1/orders/{order['id']}/status",
            data=body,
            headers={"Content-Type": "application/json", "Webhook-Signature": "t=1,v1=" + "0" * 64},
        )
        assert response.status_code == 401
    signed_garbage = b"not json"
    response = client.post(
        f"/api/v1/orders/{order['id']}/status", data=signed_garbage, headers=signed_headers(signed_garbage)
    )
    assert response.status_code == 400  # past the signature, the parser answers


def test_a_wrong_signature_is_not_rescued_by_the_static_secret(client, order, sql):
    raw = json.dumps({"status": "PAID"}).encode()
    headers = {**signed_headers(raw, "wrong-secret-value-123"), **WEBHOOK}
    response = client.post(f"/api/v1/orders/{order['id']}/status", data=raw, headers=headers)
    assert response.status_code == 401
    assert status_of(sql, order["id"]) == "PENDING"


def test_static_secret_still_works_unless_signatures_are_required(
    make_app, client, order, sql, make_event, buy
):
    assert (
        client.post(
            f"/api/v1/orders/{order['id']}/status", json={"status": "PAID"}, headers=WEBHOOK
        ).status_code
        == 204
    )
    strict = make_app(webhook_require_signature=True).test_client()
    other = buy(make_event()["id"], 1).json
    response = strict.post(f"/api/v1/orders/{other['id']}/status", json={"status": "PAID"}, headers=WEBHOOK)
    assert response.status_code == 401
    assert response.json["type"] == "/problems/invalid-webhook-signature"
    assert status_of(sql, other["id"]) == "PENDING"
    assert post_signed(strict, other["id"], {"status": "PAID"}).status_code == 204


def test_static_secret_accepts_any_configured_secret(make_app, order):
    rotating = make_app(webhook_secret=f"{WEBHOOK_SECRET},{ROTATED}").test_client()
    response = rotating.post(
        f"/api/v1/orders/{order['id']}/status", json={"status": "PAID"}, headers={"X-Webhook-Secret": ROTATED}
    )
    assert response.status_code == 204


def test_sign_and_verify_round_trip():
    body = b'{"a": 1}'
    header = signatures.sign("k" * 20, body, 1_700_000_000)
    assert signatures.verify(header, body, ("k" * 20,), 300, now=1_700_000_100) is None
    assert signatures.verify(header, body, ("k" * 20,), 300, now=1_700_000_400) is not None
    assert signatures.verify(header, body + b" ", ("k" * 20,), 300, now=1_700_000_000) is not None
