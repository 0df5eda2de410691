"""Liveness and readiness probes for orchestrators and load balancers."""

import psycopg2.errors
from flask.views import MethodView
from marshmallow import fields

from ticketing import db, sql
from ticketing.api import Blueprint, Schema
from ticketing.devdb import MIGRATIONS_DIR
from ticketing.errors import SERVICE_UNAVAILABLE, ServiceUnavailable

APPLIED_MIGRATIONS = sql.load("health/applied_migrations")
EXPECTED_MIGRATIONS = sorted(p.name.split("_", 1)[0] for p in MIGRATIONS_DIR.glob("*.sql"))

blp = Blueprint("health", __name__, description="Probes")


class StatusOut(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, StatusOut)
    def get(self):
        """The process is alive (does not touch the database)"""
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.response(200, StatusOut)
    @blp.problems(SERVICE_UNAVAILABLE)
    def get(self):
        """The database answers and every migration is applied"""
        database = db.current()
        try:
            applied = {row["version"] for row in database.all(APPLIED_MIGRATIONS)}
        except psycopg2.errors.UndefinedTable:
            applied = set()
        missing = [v for v in EXPECTED_MIGRATIONS if v not in applied]
        if missing:
            raise ServiceUnavailable(
                f"Migrations not applied: {', '.join(missing)}", retry_after=database.retry_after
            )
        return {"status": "ready"}
