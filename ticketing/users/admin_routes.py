"""Accounts, for admins: list and search them, read one, rename, re-email, promote, demote."""

from flask.views import MethodView

from ticketing import security
from ticketing.api import Blueprint, page_items, page_window
from ticketing.errors import (
    EMAIL_TAKEN,
    LAST_ADMIN,
    MALFORMED_REQUEST,
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
)
from ticketing.users import service
from ticketing.users.schemas import AdminUserUpdateIn, UserListArgs, UserOut

blp = Blueprint("admin_users", __name__, description="Accounts, for admins")


@blp.route("/users")
class Users(MethodView):
    @blp.auth(roles=security.ADMIN)
    @blp.arguments(UserListArgs, location="query")
    @blp.response(200, UserOut(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """All accounts, oldest first (ties by id) (admin)

        `role` keeps one role; `email` keeps emails containing that text, ignoring case
        (`%` and `_` match themselves, they are not wildcards).
        """
        rows = service.list_page(
            role=args.get("role"), email=args.get("email"), **page_window(pagination_parameters)
        )
        return page_items(rows, pagination_parameters)


@blp.route("/users/<uuid:user_id>")
class User(MethodView):
    @blp.auth(roles=security.ADMIN)
    @blp.response(200, UserOut)
    @blp.problems(NOT_FOUND)
    def get(self, user_id):
        """One account (admin)"""
        return service.get(user_id)

    @blp.auth(roles=security.ADMIN)
    @blp.arguments(AdminUserUpdateIn, example={"role": "admin"})
    @blp.response(200, UserOut)
    @blp.problems(
        MALFORMED_REQUEST,
        UNSUPPORTED_MEDIA_TYPE,
        NOT_FOUND,
        EMAIL_TAKEN,
        LAST_ADMIN,
        PAYLOAD_TOO_LARGE,
    )
    def patch(self, body, user_id):
        """Edit an account: any of `name`, `email`, `role` (admin)

        Roles: `user`, `staff` (door staff: may read any ticket and check tickets in,
        nothing else an admin may do) and `admin`.

        A role change takes effect on the account's very next request, with the tokens it
        already holds: the role is read from the database on every request, never
        trusted from the token, so nothing needs revoking. Demoting the last admin
        (yourself included) is 409 `last-admin`, also when two admins demote each other
        at the same moment. Passwords are not set here.
        """
        return service.admin_update(user_id, body)
