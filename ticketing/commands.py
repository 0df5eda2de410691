"""Operator commands: `flask --app wsgi <command>`."""

from __future__ import annotations

import click
from marshmallow import ValidationError

from ticketing.config import ConfigError
from ticketing.users import service as users

_ADMIN_VARIABLES = {"email": "ADMIN_EMAIL", "password": "ADMIN_PASSWORD", "name": "ADMIN_NAME"}


def bootstrap_admin_from_env(app) -> None:
    """ADMIN_EMAIL at start: create that admin, or find it already one. An existing
    account without the admin role stops the start (ConfigError): it is never promoted
    silently; `create-admin --promote-existing` is the explicit way."""
    settings = app.config["SETTINGS"]
    if not settings.admin_email:
        return
    with app.app_context():
        try:
            user = users.ensure_admin(
                settings.admin_email, settings.admin_name or "Administrator", settings.admin_password
            )
        except users.AdminRefused as exc:
            raise ConfigError(
                f"ADMIN_EMAIL: {exc}. To make that account an admin, run "
                f"`flask --app wsgi create-admin --email {settings.admin_email} --promote-existing`; "
                "or set ADMIN_EMAIL to an address no account uses"
            ) from None
        except ValidationError as exc:  # a bad environment, reported like any other
            problems = "; ".join(
                f"{_ADMIN_VARIABLES.get(field, field)}: {' '.join(map(str, messages))}"
                for field, messages in exc.messages.items()
            )
            raise ConfigError(f"invalid admin settings: {problems}") from None
    verb = "created" if user["outcome"] == "created" else "ensured"
    click.echo(f"admin {user['email']} {verb}", err=True)


def register(app):
    from ticketing.loadtest.commands import loadtest

    app.cli.add_command(loadtest)

    @app.cli.command("expire-orders")
    def expire_orders():
        """Expire PENDING orders whose hold is over and return their tickets to sale."""
        from ticketing.orders.expiry import expire_due_orders

        click.echo(f"Expired {expire_due_orders()} orders")

    @app.cli.command("admit-queue")
    def admit_queue():
        """Admit the waiting-room entries that are due now (the service also does it by itself)."""
        from ticketing.queue.admission import admit_due

        click.echo(f"Admitted {admit_due()} queue entries")

    @app.cli.command("deliver-webhooks")
    def deliver_webhooks():
        """Send the outgoing webhooks that are due now, once (the workers also do it by themselves)."""
        from flask import current_app

        from ticketing.outbox import targets
        from ticketing.outbox.delivery import deliver_all_due

        settings = current_app.config["SETTINGS"]
        sender = targets.Sender(settings.webhook_timeout_seconds)
        try:
            click.echo(f"Attempted {deliver_all_due(settings, sender)} deliveries")
        finally:
            sender.close()

    @app.cli.command("create-admin")
    @click.option("--email", required=True)
    @click.option("--name", default="Administrator", show_default=True)
    @click.option("--password", help="the new admin's password (prompted for when not given)")
    @click.option(
        "--promote-existing",
        is_flag=True,
        help="give the existing account with this email the admin role (it keeps its password)",
    )
    def create_admin(email, name, password, promote_existing):
        """Create an admin. An existing account is only promoted with --promote-existing."""
        if password is None and not promote_existing:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            user = users.ensure_admin(email, name, password, promote_existing=promote_existing)
        except ValidationError as exc:
            raise click.UsageError(str(exc.messages)) from None
        except users.AdminRefused as exc:
            hint = "" if promote_existing else "; to make it an admin, add --promote-existing"
            raise click.ClickException(f"{exc}{hint}") from None
        message = {
            "created": "Created admin {email} ({id})",
            "already-admin": "{email} ({id}) is already an admin; nothing changed (its password was kept)",
            "promoted": "Promoted {email} ({id}) to admin; its password and sessions were kept",
        }[user["outcome"]]
        click.echo(message.format(**user))
