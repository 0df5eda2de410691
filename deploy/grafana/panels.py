"""The on-sale dashboard's panels, once: `python deploy/grafana/panels.py` writes
deploy/grafana/dashboards/ticketing.json (Grafana), and deploy/grafana/render.py draws
the same queries from a Prometheus when no Grafana is at hand. A test keeps the JSON in
step with this file."""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
DASHBOARD = HERE / "dashboards" / "ticketing.json"
RATE = "$__rate_interval"  # Grafana's; render.py substitutes a fixed window
ORDERS = 'route="/api/v1/orders",method="POST"'


def quantiles(buckets: str) -> list[tuple[str, str]]:
    """p50 and p99 of a histogram's `_bucket` series (a selector)."""
    return [
        (f"p{q}", f"histogram_quantile(0.{q}, sum by (le) (rate({buckets}[{RATE}])))") for q in ("50", "99")
    ]


# title, unit, [(legend, PromQL)]; laid out three to a row
PANELS = [
    (
        "Purchases per second, by outcome",
        "reqps",
        [("{{outcome}}", f"sum by (outcome) (rate(ticketing_purchases_total[{RATE}]))")],
    ),
    (
        "POST /orders: responses per second, by status",
        "reqps",
        [("{{status}}", f"sum by (status) (rate(http_requests_total{{{ORDERS}}}[{RATE}]))")],
    ),
    (
        "POST /orders latency (in the app)",
        "s",
        quantiles(f"http_request_duration_seconds_bucket{{{ORDERS}}}"),
    ),
    (
        "All responses per second, by status",
        "reqps",
        [("{{status}}", f"sum by (status) (rate(http_requests_total[{RATE}]))")],
    ),
    (
        "Database pool: wait for a connection",
        "s",
        quantiles("ticketing_db_pool_wait_seconds_bucket"),
    ),
    (
        "Database unavailable (503) per second, by reason",
        "reqps",
        [("{{reason}}", f"sum by (reason) (rate(ticketing_db_unavailable_total[{RATE}]))")],
    ),
    (
        "Tickets sold per second, holds expired per second",
        "short",
        [
            ("sold", f"sum(rate(ticketing_tickets_sold_total[{RATE}]))"),
            ("holds expired", f"sum(rate(ticketing_holds_expired_total[{RATE}]))"),
        ],
    ),
    (
        "Payment webhooks per second, by result",
        "reqps",
        [("{{result}}", f"sum by (result) (rate(ticketing_webhook_deliveries_total[{RATE}]))")],
    ),
    (
        # Gauges: the newest reading of any live worker, the same number in each, so max.
        "Waiting room: entries waiting, passes out",
        "short",
        [
            ("waiting", "max(ticketing_queue_waiting)"),
            ("passes out", "max(ticketing_queue_passes_out)"),
        ],
    ),
    (
        "Waiting room: joins and admissions per second",
        "ops",
        [
            ("joins ({{result}})", f"sum by (result) (rate(ticketing_queue_joins_total[{RATE}]))"),
            ("admitted", f"sum(rate(ticketing_queue_admitted_total[{RATE}]))"),
        ],
    ),
]


def dashboard() -> dict:
    panels = []
    for index, (title, unit, targets) in enumerate(PANELS):
        panels.append(
            {
                "id": index + 1,
                "type": "timeseries",
                "title": title,
                "datasource": {"type": "prometheus", "uid": "prometheus"},
                "gridPos": {"x": (index % 3) * 8, "y": (index // 3) * 8, "w": 8, "h": 8},
                "fieldConfig": {"defaults": {"unit": unit, "min": 0}, "overrides": []},
                "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
                "targets": [
                    {
                        "refId": chr(ord("A") + n),
                        "datasource": {"type": "prometheus", "uid": "prometheus"},
                        "expr": expr,
                        "legendFormat": legend,
                    }
                    for n, (legend, expr) in enumerate(targets)
                ],
            }
        )
    return {
        "uid": "ticketing-onsale",
        "title": "ticketing: on-sale",
        "tags": ["ticketing"],
        "timezone": "utc",
        "refresh": "5s",
        "time": {"from": "now-15m", "to": "now"},
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "panels": panels,
    }


def render_json() -> str:
    return json.dumps(dashboard(), indent=2) + "\n"


if __name__ == "__main__":
    DASHBOARD.write_text(render_json())
    print(f"wrote {DASHBOARD}")
