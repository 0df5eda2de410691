"""`flask --app wsgi loadtest prepare|verify` (docs/load-testing.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

loadtest = AppGroup("loadtest", help="Prepare a load test against a deployment, and verify it afterwards.")


def _json_option(value: str | None, name: str):
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint=name) from None


@click.command("prepare")
@click.option(
    "--base-url", required=True, help="The deployment's public origin, e.g. https://staging.example.com"
)
@click.option(
    "--users", type=click.IntRange(1, 1_000_000), required=True, help="Buyers to sign up and log in"
)
@click.option("--capacity", type=click.IntRange(1, 1_000_000), required=True, help="Tickets of the event")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default="run.json", show_default=True)
@click.option("--admin-email", envvar="ADMIN_EMAIL", required=True, help="An admin account [env ADMIN_EMAIL]")
@click.option(
    "--admin-password", envvar="ADMIN_PASSWORD", required=True, help="Its password [env ADMIN_PASSWORD]"
)
@click.option(
    "--max-per-order", type=click.IntRange(1, 100), help="The event's max_per_order (API default if unset)"
)
@click.option(
    "--quantity", type=click.IntRange(1, 100), default=1, show_default=True, help="Tickets per purchase"
)
@click.option(
    "--ticket-types",
    metavar="JSON",
    help="Sent as the event's `ticket_types` field, as is (needs a server with ticket types)",
)
@click.option(
    "--queue",
    metavar="JSON",
    help="Sent as the event's `queue` field, as is, e.g. '{\"admit_per_minute\": 600}':"
    " the tools then go through the waiting room",
)
@click.option(
    "--concurrency", type=click.IntRange(1, 256), default=16, show_default=True, help="Parallel signups"
)
def prepare_command(
    base_url,
    users,
    capacity,
    out,
    admin_email,
    admin_password,
    max_per_order,
    quantity,
    ticket_types,
    queue,
    concurrency,
):
    """Publish one event and sign up, log in and write out USERS buyers, all through the API."""
    from ticketing.loadtest.prepare import PrepareError, prepare

    fields = {}
    if ticket_types is not None:
        fields["ticket_types"] = _json_option(ticket_types, "--ticket-types")
    if queue is not None:
        fields["queue"] = _json_option(queue, "--queue")
    try:
        prepare(
            base_url=base_url,
            users=users,
            capacity=capacity,
            admin_email=admin_email,
            admin_password=admin_password,
            out=out,
            max_per_order=max_per_order,
            quantity=quantity,
            event_fields=fields,
            concurrency=concurrency,
            progress=lambda message: click.echo(message, err=True),
        )
    except PrepareError as exc:
        raise click.ClickException(str(exc)) from None


# Prepare needs no app and no database (only HTTP): added as is, not wrapped in an app
# context, so `python -m ticketing.loadtest prepare ...` runs it without any app settings.
loadtest.add_command(prepare_command)


@loadtest.command("verify")
@click.option(
    "--run",
    "run_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default="run.json",
    show_default=True,
)
@click.option(
    "--orders",
    "orders_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Order ids the tool recorded (default: the run's orders_file, next to it)",
)
def verify_command(run_path, orders_path):
    """Check the run's event in this app's database: nothing oversold, every recorded 201 real,
    and with a waiting room no order without a used pass. Exits 1 on any violation."""
    from ticketing.loadtest.service import read_recorded_orders, verify

    run = json.loads(run_path.read_text())
    orders_path = orders_path or run_path.parent / run.get(
        "orders_file", run_path.with_suffix(".orders").name
    )
    recorded, malformed = read_recorded_orders(orders_path)
    report = verify(run["event"]["id"], recorded=recorded, malformed=malformed)
    for fact in report.facts:
        click.echo(fact)
    if report.ok:
        click.echo("OK: every invariant holds")
        return
    click.echo(f"FAILED: {len(report.violations)} violations", err=True)
    for violation in report.violations:
        click.echo(f"  - {violation}", err=True)
    sys.exit(1)
