"""flask-smorest's Api and Blueprint, customised once: problem+json errors, auth, docs."""

from __future__ import annotations

import http
from functools import wraps

from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint
from flask_smorest.pagination import PaginationMetadataSchema
from flask_smorest.utils import prepare_response

from ticketing import errors, security
from ticketing.api.parser import JsonBodyParser
from ticketing.api.problems import ProblemSchema, problem_example
from ticketing.errors import PROBLEM_CONTENT_TYPE, Kind

# 429 and 503 answers say when to come back.
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 1},
    }
}


class _Converter(OpenAPIConverter):
    def schema2jsonschema(self, schema):
        return {**super().schema2jsonschema(schema), **getattr(schema, "JSON_SCHEMA", {})}

    def field2nullable(self, field, ret) -> dict:
        # apispec writes a nullable nested schema as anyOf [its schema, {type: object,
        # nullable}], and that second branch admits any object at all. Say "this schema,
        # or null" instead (OpenAPI 3.0: allOf [$ref] with nullable).
        version = self.openapi_version
        if (
            field.allow_none
            and (version.major, version.minor) == (3, 0)
            and ("$ref" in ret or "allOf" in ret)
        ):
            if "$ref" in ret:
                ret["allOf"] = [{"$ref": ret.pop("$ref")}]
            return {"nullable": True}
        return super().field2nullable(field, ret)


class _MarshmallowPlugin(MarshmallowPlugin):
    Converter = _Converter


class _OperationsPlugin(BasePlugin):
    """Every operation gets an `operationId` (`<method><View>`: `postOrders`, `getEvent`)
    and a `security` list: `[]` on public ones, which declare no scheme, so tools (and
    Redocly's `security-defined` rule) know they need no credentials."""

    def init_spec(self, spec):
        self.ids: dict[str, str] = {}

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        view = rule.endpoint.rsplit(".", 1)[-1] if rule is not None else path
        for method, operation in (operations or {}).items():
            operation.setdefault("security", [])
            operation_id = operation.setdefault("operationId", method + view[:1].upper() + view[1:])
            where = f"{method.upper()} {path}"
            if self.ids.setdefault(operation_id, where) != where:
                raise ValueError(
                    f"operationId {operation_id} names two operations: {self.ids[operation_id]}, {where}"
                )


class Api(_Api):
    def _init_spec(self, **kwargs):
        kwargs["marshmallow_plugin"] = kwargs.get("marshmallow_plugin") or _MarshmallowPlugin()
        kwargs["extra_plugins"] = [*(kwargs.get("extra_plugins") or ()), _OperationsPlugin()]
        super()._init_spec(**kwargs)

    def _register_pagination_header(self):
        # X-Pagination is JSON text; OpenAPI says so with `content`. A bare `schema: object`
        # would mean the `simple` style instead: "total,3,page,1".
        header = {
            "description": "Pagination metadata, as JSON",
            "content": {"application/json": {"schema": PaginationMetadataSchema}},
        }
        self.spec.components.header("PAGINATION", header, lazy=True)

    def _register_responses(self):
        # The components flask-smorest references (422 from @arguments, "default", ...)
        # are problem+json, because that is what every error really is.
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = ProblemSchema
                prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Error (problem details)", "schema": ProblemSchema}
        prepare_response(default, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)

    def handle_http_exception(self, error):
        return errors.handle_http_exception(error)


class Blueprint(_Blueprint):
    ARGUMENTS_PARSER = JsonBodyParser()

    def arguments(self, schema, **kwargs):
        # webargs builds a new instance of a schema *class* on every request: build it once.
        schema = schema() if isinstance(schema, type) else schema
        if kwargs.get("location") == "headers" and "unknown" not in kwargs:
            self.ARGUMENTS_PARSER.named_headers_only(schema)
        return super().arguments(schema, **kwargs)

    def problems(self, *kinds: Kind):
        """Document the problem types a route can answer, grouped by status."""
        by_status: dict[int, list[Kind]] = {}
        for kind in kinds:
            by_status.setdefault(kind.status, []).append(kind)

        def decorator(func):
            for status, group in by_status.items():
                examples = {str(k): {"value": problem_example(k)} for k in group}
                func = self.alt_response(
                    status,
                    schema=ProblemSchema,
                    content_type=PROBLEM_CONTENT_TYPE,
                    description=" or ".join(k.title for k in group)
                    + " ("
                    + ", ".join(f"`{k.uri}`" for k in group)
                    + ")",
                    examples=examples,
                    headers=RETRY_AFTER if status in (429, 503) else None,
                )(func)
            return func

        return decorator

    def guard(self, check, kinds, security_requirement):
        """Run `check()` before the body is parsed, and document its errors and scheme
        (a list of requirements: any one of them is enough)."""

        def decorator(func):
            @wraps(func)
            def wrapper(*args, **kwargs):
                check()
                return func(*args, **kwargs)

            wrapper = self.problems(*kinds)(wrapper)
            requirements = security_requirement
            if not isinstance(requirements, list):
                requirements = [requirements]
            return self.doc(security=requirements)(wrapper)

        return decorator

    def auth(self, roles: tuple[str, ...] | None = None, revocation_in_sql: bool = False):
        """Require a valid, unrevoked bearer token (and one of `roles`, e.g.
        `security.ADMIN` or `security.DOOR`); documents 401/403 on the route, and the
        roles as the operation's `x-roles` (absent: any signed-in account).

        Revocation (and the role) are checked against the database before the view, with
        one small query. `revocation_in_sql=True` skips that query: the view's own SQL
        statement must check the token version instead (the purchase, a hot path, does).
        """
        if roles and revocation_in_sql:
            raise ValueError("a role check needs the role from the database; keep the lookup")
        if roles is not None and (not roles or set(roles) - set(security.ROLES)):
            raise ValueError(f"unknown roles {roles!r}")
        kinds = [errors.UNAUTHORIZED] + ([errors.FORBIDDEN] if roles else [])
        guarded = self.guard(
            lambda: security.authenticate(roles, revocation_in_sql), kinds, {"bearerAuth": []}
        )
        if not roles:
            return guarded
        return lambda func: self.doc(**{"x-roles": list(roles)})(guarded(func))
