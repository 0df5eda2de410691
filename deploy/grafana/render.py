"""Draw the dashboard's panels (deploy/grafana/panels.py, the same PromQL as the Grafana
JSON) from a Prometheus' HTTP API into one PNG, for when no Grafana is at hand (our build
machines have none: it is not packaged in Debian). Needs matplotlib, which is not a
dependency of the service: use a throwaway venv.

    python -m venv /tmp/plot && /tmp/plot/bin/pip install matplotlib
    /tmp/plot/bin/python deploy/grafana/render.py --prometheus http://127.0.0.1:9090 \\
        --start 2026-12-07T13:40:00Z --end 2026-12-07T13:50:00Z --out docs/img/dashboard.png
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from panels import PANELS, RATE  # noqa: E402


def query_range(prometheus: str, expr: str, start: float, end: float, step: float) -> list[dict]:
    params = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": step})
    with urllib.request.urlopen(f"{prometheus}/api/v1/query_range?{params}", timeout=30) as response:
        body = json.load(response)
    if body.get("status") != "success":
        raise SystemExit(f"Prometheus refused {expr}: {body}")
    return body["data"]["result"]


def legend(template: str, labels: dict) -> str:
    text = template
    for key, value in labels.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def _time(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prometheus", default="http://127.0.0.1:9090")
    parser.add_argument("--start", required=True, help="RFC 3339, e.g. 2026-12-07T13:40:00Z")
    parser.add_argument("--end", required=True)
    parser.add_argument("--step", type=float, default=2.0, help="seconds between points")
    parser.add_argument("--rate-window", default="20s", help=f"what {RATE} becomes")
    parser.add_argument("--title", default="ticketing: on-sale")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    start, end = _time(args.start), _time(args.end)
    rows = (len(PANELS) + 2) // 3
    figure, axes = plt.subplots(rows, 3, figsize=(18, 4.2 * rows), squeeze=False)
    for ax, (title, unit, targets) in zip(axes.flat, PANELS):
        drawn = 0
        for template, expr in targets:
            for series in query_range(
                args.prometheus, expr.replace(RATE, args.rate_window), start, end, args.step
            ):
                points = [(datetime.fromtimestamp(t, UTC), float(v)) for t, v in series["values"]]
                points = [(t, v) for t, v in points if v == v]  # NaN: no data at that instant
                if not any(v for _, v in points):
                    continue  # a series that stayed at zero (e.g. an outcome that never happened)
                times, values = zip(*points)
                if unit == "s":
                    values = [v * 1000 for v in values]
                ax.plot(times, values, label=legend(template, series["metric"]) or expr, linewidth=1.4)
                drawn += 1
        ax.set_title(title, fontsize=11)
        ax.set_ylabel({"s": "ms", "reqps": "per second"}.get(unit, ""))
        ax.set_ylim(bottom=0)
        ax.set_xlim(datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S", tz=UTC))
        if drawn:
            ax.legend(fontsize=8, loc="upper left")
        else:
            ax.text(0.5, 0.5, "No data", ha="center", va="center", transform=ax.transAxes, color="grey")
    for ax in list(axes.flat)[len(PANELS) :]:
        ax.axis("off")
    figure.suptitle(f"{args.title} ({args.start} to {args.end}, UTC; rate window {args.rate_window})")
    figure.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out, dpi=80)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
