"""Operator commands: `flask --app wsgi <command>`."""

from __future__ import annotations

import click
from marshmallow import ValidationError

from ticketing.config import ConfigError
from ticketing.users import service as users

_ADMIN_VARIABLES = {"email": "ADMIN_EMAIL", "password": "ADMIN_PASSWORD", "name": "ADMIN_NAME"}


def bootstrap_admin_from_env(app) -> None:
    settings = app.config["SETTINGS"]
    if not settings.admin_email:
        return
    with app.app_context():
        try:
            user = users.ensure_admin(
                settings.admin_email, settings.admin_name or "Administrator", settings.admin_password
            )
        except ValidationError as exc:  # a bad environment, reported like any other
            problems = "; ".join(
                f"{_ADMIN_VARIABLES.get(field, field)}: {' '.join(map(str, messages))}"
                for field, messages in exc.messages.items()
            )
            raise ConfigError(f"invalid admin settings: {problems}") from None
    verb = "created" if user["created"] else "ensured"
    click.echo(f"admin {user['email']} {verb}", err=True)


def register(app):
    @app.cli.command("expire-orders")
    def expire_orders():
        """Expire PENDING orders whose hold is over and return their tickets to sale."""
        from ticketing.orders.expiry import expire_due_orders

        click.echo(f"Expired {expire_due_orders()} orders")

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
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    def create_admin(email, name, password):
        """Create an admin, or promote the existing user with this email."""
        try:
            user = users.ensure_admin(email, name, password)
        except ValidationError as exc:
            raise click.UsageError(str(exc.messages)) from None
        if user["created"]:
            click.echo(f"Created admin {user['email']} ({user['id']})")
        else:
            click.echo(f"{user['email']} ({user['id']}) is an admin; the existing password was kept")
