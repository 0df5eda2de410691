"""Prometheus metrics: counted across gunicorn workers, served only on the metrics port."""

from __future__ import annotations

import os
import signal
import uuid
from collections import Counter

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.concurrency import rush
from tests.support.samples import EVENT, WEBHOOK
from tests.support.timeouts import REQUEST_TIMEOUT, wait_until
from ticketing.config import ConfigError, load_settings
from ticketing.observability import UNMATCHED, route_label


def scrape(server) -> dict:
    """{(name, frozenset(labels.items())): value} of every sample the metrics port serves."""
    response = requests.get(server.metrics_url, timeout=REQUEST_TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_route_labels_are_templates():
    class Rule:
        def __init__(self, rule):
            self.rule = rule

    assert route_label(Rule("/api/v1/orders/<uuid:order_id>")) == "/api/v1/orders/{order_id}"
    assert route_label(Rule("/api/v1/orders/<uuid:order_id>/cancel")) == "/api/v1/orders/{order_id}/cancel"
    assert route_label(Rule("/api/v1/images/<path:name>")) == "/api/v1/images/{name}"
    assert route_label(Rule("/api/v1/events/<event_id>")) == "/api/v1/events/{event_id}"
    assert route_label(None) == UNMATCHED


def test_batched_recording_lands_in_the_same_buckets_as_prometheus_client():
    from ticketing import metrics

    metrics.flush()
    child = metrics.HTTP_DURATION.labels("/test/batch", "GET")
    before = [b.get() for b in child._buckets], child._sum.get()
    values = [0.0005, 0.001, 0.0011, 0.05, 0.7, 3.0, 99.0]
    for seconds in values:
        metrics.request("/test/batch", "GET", 200, seconds)
    metrics.flush()
    counts = [b.get() - a for b, a in zip(child._buckets, before[0])]
    # le=0.001 holds 0.0005 and 0.001; 0.0011 is in le=0.0025; 99 only in +Inf
    expected = [0] * len(counts)
    for seconds in values:
        expected[next(i for i, bound in enumerate(child._upper_bounds) if seconds <= bound)] += 1
    assert counts == expected
    assert expected[0] == 2 and expected[-1] == 1
    assert child._sum.get() - before[1] == pytest.approx(sum(values))
    assert metrics.HTTP_REQUESTS.labels("/test/batch", "GET", "200")._value.get() == len(values)


def test_metrics_port_defaults_to_port_plus_1000_and_never_the_public_port(settings):
    base = {"DATABASE_URL": settings.database_url, "JWT_SECRET": "x" * 32, "WEBHOOK_SECRET": "y" * 16}
    assert load_settings({**base, "PORT": "8080"}).metrics_port == 9080
    assert load_settings(base).metrics_port == 9080
    assert load_settings({**base, "PORT": "9000", "METRICS_PORT": "0"}).metrics_port == 0
    assert load_settings({**base, "METRICS_PORT": "9999"}).metrics_port == 9999
    assert load_settings({**base, "PORT": "65000"}).metrics_port == 0  # no room above: off
    with pytest.raises(ConfigError, match="METRICS_PORT must differ from PORT"):
        load_settings({**base, "PORT": "9000", "METRICS_PORT": "9000"})
    with pytest.raises(ConfigError, match="METRICS_PORT"):
        load_settings({**base, "METRICS_PORT": "nope"})


def test_purchases_are_counted_by_outcome_across_workers(gunicorn, users, sql, tmp_path):
    server = gunicorn(EXPIRY_SWEEP_MS="0")
    admin = users.create(role="admin")
    created = requests.post(
        server("/api/v1/events"),
        json={**EVENT, "capacity": 6},
        headers=admin["headers"],
        timeout=REQUEST_TIMEOUT,
    )
    assert created.status_code == 201
    event_id = created.json()["id"]
    buyers = users.many_headers(30)

    def buy(i, session):
        response = server.post(
            "/api/v1/orders", session=session, json={"event_id": event_id, "quantity": 1}, headers=buyers[i]
        )
        return response.status_code, response.json()

    statuses = Counter(status for status, _ in rush(len(buyers), buy))
    assert statuses == {201: 6, 409: 24}
    # one order looked up by id, one request no route matches, one webhook call
    order_id = sql.value("SELECT id::text FROM orders LIMIT 1")
    assert server.get(f"/api/v1/orders/{order_id}", headers=admin["headers"]).status_code == 200
    assert server.get(f"/no/such/{uuid.uuid4()}").status_code == 404
    assert (
        server.post(f"/api/v1/orders/{order_id}/status", json={"status": "PAID"}, headers=WEBHOOK).status_code
        == 204
    )
    assert server.post(f"/api/v1/orders/{order_id}/status", json={"status": "PAID"}).status_code == 401

    orders = {"route": "/api/v1/orders", "method": "POST"}
    one_order = {"route": "/api/v1/orders/{order_id}", "method": "GET", "status": "200"}
    expected = [
        ("ticketing_purchases_total", {"outcome": "created"}, 6),
        ("ticketing_purchases_total", {"outcome": "sold_out"}, 24),
        ("ticketing_tickets_sold_total", {}, 6),
        ("http_requests_total", {"status": "201", **orders}, 6),
        ("http_requests_total", {"status": "409", **orders}, 24),
        ("http_request_duration_seconds_count", orders, 30),
        ("http_request_duration_seconds_bucket", {"le": "+Inf", **orders}, 30),
        ("http_requests_total", one_order, 1),
        ("http_requests_total", {"route": UNMATCHED, "method": "GET", "status": "404"}, 1),
        ("ticketing_webhook_deliveries_total", {"result": "accepted"}, 1),
        ("ticketing_webhook_deliveries_total", {"result": "unauthorized"}, 1),
    ]

    def seen():
        samples = scrape(server)
        return [(name, labels, value(samples, name, **labels)) for name, labels, _ in expected]

    # Each worker flushes what it recorded every second (ticketing.metrics.FLUSH_SECONDS).
    wait_until(lambda: seen() == expected, "the metrics did not add up to the requests made")
    samples = scrape(server)
    assert value(samples, "ticketing_db_pool_wait_seconds_count") >= 30
    # labels are templates: no id ever appears in the metrics
    text = requests.get(server.metrics_url, timeout=REQUEST_TIMEOUT).text
    assert order_id not in text and event_id not in text and "/no/such" not in text

    # The 30 buyers were answered by more than one worker, and all of them were counted.
    folder = tmp_path / "gunicorn-0" / "metrics"
    (port_folder,) = folder.iterdir()
    pids = {
        int(name[: -len(".db")].rsplit("_", 1)[1])
        for name in os.listdir(port_folder)
        if name.startswith("counter_")
    }
    pids.discard(server.process.pid)  # the master's own (the admin bootstrap at start)
    assert len(pids) >= 2, pids

    # A worker that dies still counts: its files stay, gunicorn replaces it.
    os.kill(sorted(pids)[0], signal.SIGKILL)
    wait_until(lambda: server.get("/healthz").status_code == 200, "gunicorn did not replace the worker")
    assert seen() == expected


def test_metrics_are_not_served_on_the_public_port(gunicorn):
    server = gunicorn()
    assert requests.get(server.metrics_url, timeout=REQUEST_TIMEOUT).status_code == 200
    for path in ("/metrics", "/api/v1/metrics", "/metrics/"):
        assert server.get(path).status_code == 404, path


def test_metrics_port_zero_serves_nothing_and_the_api_still_works(gunicorn):
    server = gunicorn(METRICS_PORT="0")
    assert server.metrics_url is None
    assert server.get("/healthz").status_code == 200
    assert server.get("/metrics").status_code == 404


def test_a_taken_metrics_port_stops_the_start_with_a_clear_message(gunicorn):
    first = gunicorn()
    port = first.metrics_url.split(":")[2].split("/")[0]
    with pytest.raises(RuntimeError, match="did not start"):
        gunicorn(METRICS_PORT=port)
    log = (first.log_path.parent.parent / "gunicorn-1" / "gunicorn.log").read_text()
    assert f"cannot serve metrics on 127.0.0.1:{port}" in log


def test_the_dashboard_json_is_generated_from_its_panels_and_uses_real_metrics():
    import importlib.util
    import re

    from tests.support import ROOT
    from ticketing import metrics

    spec = importlib.util.spec_from_file_location("panels", ROOT / "deploy" / "grafana" / "panels.py")
    panels = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(panels)
    assert panels.DASHBOARD.read_text() == panels.render_json(), "run: python deploy/grafana/panels.py"
    families = {m._name for m in vars(metrics).values() if hasattr(m, "_name") and hasattr(m, "_type")}
    used = set()
    for _title, _unit, targets in panels.PANELS:
        for _legend, expr in targets:
            used |= {
                name for name in re.findall(r"\b((?:http|ticketing)_[a-z_]+)", expr) if "queue" not in name
            }
    suffixes = ("_total", "_bucket")
    assert {re.sub(r"(_total|_bucket)$", "", name) for name in used} <= families, used
    assert all(name.endswith(suffixes) for name in used)


def _counted(child) -> float:
    from ticketing import metrics

    metrics.flush()
    return child._value.get()


def test_purchase_outcomes_in_process(client, make_event, buy, sql):
    from ticketing import metrics

    outcomes = ("created", "replayed", "limit", "sold_out", "not_found", "closed")
    before = {o: _counted(metrics.PURCHASES.labels(o)) for o in outcomes}
    sold_before = _counted(metrics.TICKETS_SOLD)
    event = make_event(capacity=3, max_per_order=2)
    assert buy(event["id"], 2, key="k1").status_code == 201
    assert buy(event["id"], 2, key="k1").status_code == 201  # the same answer again
    assert buy(event["id"], 3).status_code == 422  # above max_per_order
    assert buy(event["id"], 2).status_code == 409  # one left
    assert buy(str(uuid.uuid4()), 1).status_code == 404
    sql.all("UPDATE events SET date = now() - interval '1 hour' WHERE id = %s", (event["id"],))
    assert buy(event["id"], 1).status_code == 409  # started: closed
    after = {o: _counted(metrics.PURCHASES.labels(o)) for o in outcomes}
    assert {o: after[o] - before[o] for o in outcomes} == dict.fromkeys(outcomes, 1)
    assert _counted(metrics.TICKETS_SOLD) - sold_before == 2


def test_expired_holds_and_database_outages_are_counted(app, make_app, client, make_event, buy, sql):
    from tests.support.samples import UNREACHABLE_DATABASE_URL
    from ticketing import metrics
    from ticketing.orders.expiry import expire_due_orders

    expired_before = _counted(metrics.HOLDS_EXPIRED)
    event = make_event(capacity=5)
    for _ in range(3):
        assert buy(event["id"], 1).status_code == 201
    sql.all("UPDATE orders SET expires_at = now() - interval '1 second'")
    with app.app_context():
        assert expire_due_orders() == 3
    assert _counted(metrics.HOLDS_EXPIRED) - expired_before == 3

    connect = metrics.DB_UNAVAILABLE.labels("connect")
    down_before = _counted(connect)
    offline = make_app(database_url=UNREACHABLE_DATABASE_URL).test_client()
    assert offline.get("/api/v1/events").status_code == 503
    assert _counted(connect) - down_before == 1


def test_waiting_room_joins_admissions_and_gauges(gunicorn, users):
    server = gunicorn(EXPIRY_SWEEP_MS="0", QUEUE_ADMIT_MS="200")
    admin = users.create(role="admin")
    created = requests.post(
        server("/api/v1/events"),
        json={**EVENT, "capacity": 2, "queue": {"admit_per_minute": 60}},
        headers=admin["headers"],
        timeout=REQUEST_TIMEOUT,
    )
    assert created.status_code == 201
    join = f"/api/v1/events/{created.json()['id']}/queue"
    buyers = users.many_headers(5)
    assert [server.post(join, headers=headers).status_code for headers in buyers] == [201] * 5
    assert server.post(join, headers=buyers[0]).status_code == 200  # the same entry again

    # 2 tickets: never more passes out than tickets left, so 2 admitted and 3 still waiting
    # (the gauges are read every few seconds, the counters flushed every second)
    def settled():
        samples = scrape(server)
        return (
            value(samples, "ticketing_queue_admitted_total") == 2
            and value(samples, "ticketing_queue_passes_out") == 2
            and value(samples, "ticketing_queue_waiting") == 3
        )

    wait_until(settled, "the queue metrics never showed 2 admitted and 3 waiting")
    samples = scrape(server)
    assert value(samples, "ticketing_queue_joins_total", result="new") == 5
    assert value(samples, "ticketing_queue_joins_total", result="existing") == 1
