"""Accounts: sign up, log in, who am I, edit my account."""

from flask.views import MethodView

from ticketing import security
from ticketing.api import Blueprint
from ticketing.errors import (
    CURRENT_PASSWORD_REQUIRED,
    EMAIL_TAKEN,
    INVALID_CREDENTIALS,
    MALFORMED_REQUEST,
    PAYLOAD_TOO_LARGE,
    RATE_LIMITED,
    UNSUPPORTED_MEDIA_TYPE,
    WRONG_CURRENT_PASSWORD,
)
from ticketing.users import service
from ticketing.users.schemas import LoginIn, MeUpdateIn, SignupIn, TokenOut, UserOut

blp = Blueprint("users", __name__, description="Accounts and access tokens")


@blp.route("/signup")
class Signup(MethodView):
    @blp.arguments(
        SignupIn,
        example={"name": "Ana Souza", "email": "ana@example.com", "password": "correct horse battery"},
    )
    @blp.response(201, UserOut)
    @blp.problems(MALFORMED_REQUEST, UNSUPPORTED_MEDIA_TYPE, EMAIL_TAKEN, PAYLOAD_TOO_LARGE)
    def post(self, body):
        """Create a user account (role `user`)"""
        return service.signup(**body)


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginIn, example={"email": "ana@example.com", "password": "correct horse battery"})
    @blp.response(200, TokenOut)
    @blp.problems(
        MALFORMED_REQUEST, UNSUPPORTED_MEDIA_TYPE, INVALID_CREDENTIALS, PAYLOAD_TOO_LARGE, RATE_LIMITED
    )
    def post(self, body):
        """Exchange email and password for a bearer token

        After `LOGIN_FREE_FAILURES` (5) attempts for one email that did not end in a correct
        password, each further attempt must wait, 1 s and doubling per failure up to
        `LOGIN_MAX_DELAY_SECONDS` (15 min): until then every attempt, even with the right
        password, is 429 `rate-limited` with `Retry-After` (seconds). Unknown emails are
        treated exactly alike. A correct password resets the count.
        """
        return service.login(**body)


@blp.route("/me")
class Me(MethodView):
    @blp.auth()
    @blp.response(200, UserOut)
    def get(self):
        """The signed-in user"""
        return service.me(security.current_principal())

    @blp.auth()
    @blp.arguments(
        MeUpdateIn,
        example={"password": "a new passphrase", "current_password": "correct horse battery"},
    )
    @blp.response(200, UserOut)
    @blp.problems(
        MALFORMED_REQUEST,
        UNSUPPORTED_MEDIA_TYPE,
        CURRENT_PASSWORD_REQUIRED,
        WRONG_CURRENT_PASSWORD,
        EMAIL_TAKEN,
        PAYLOAD_TOO_LARGE,
    )
    def patch(self, body):
        """Edit your own account: any of `name`, `email`, `password`

        Changing `email` or `password` needs `current_password`: 403
        `current-password-required` without it, 403 `wrong-current-password` when it is
        wrong. A new password revokes every token issued before it, including the one
        used for this request: log in again with the new password. The role cannot be set
        here (422, like any unknown field); an empty body is 422 too.
        """
        return service.update_me(security.current_principal(), body)
