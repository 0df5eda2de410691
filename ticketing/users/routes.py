"""Accounts: sign up, log in, who am I, edit my account."""

from flask import current_app
from flask.views import MethodView

from ticketing import security
from ticketing.api import Blueprint
from ticketing.errors import ApiError, Unauthorized
from ticketing.users import repository, service
from ticketing.users.schemas import LoginIn, MeUpdateIn, SignupIn, TokenOut, UserOut

blp = Blueprint("users", __name__, description="Accounts and access tokens")


def _settings():
    return current_app.config["SETTINGS"]


@blp.route("/signup")
class Signup(MethodView):
    @blp.arguments(
        SignupIn,
        example={"name": "Ana Souza", "email": "ana@example.com", "password": "correct horse battery"},
    )
    @blp.response(201, UserOut)
    @blp.problems("malformed-request", "unsupported-media-type", "email-taken", "payload-too-large")
    def post(self, body):
        """Create a user account (role `user`)"""
        settings = _settings()
        password_hash = security.hash_password(body["password"], settings.bcrypt_rounds)
        user = repository.create(body["name"], body["email"], password_hash)
        if user is None:
            raise ApiError("An account with this email already exists", kind="email-taken")
        return user


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginIn, example={"email": "ana@example.com", "password": "correct horse battery"})
    @blp.response(200, TokenOut)
    @blp.problems("malformed-request", "unsupported-media-type", "invalid-credentials", "payload-too-large")
    def post(self, body):
        """Exchange email and password for a bearer token"""
        settings = _settings()
        user = repository.find_for_login(body["email"])
        ok = security.check_password(
            body["password"], user["password_hash"] if user else None, settings.bcrypt_rounds
        )
        if not ok:
            raise Unauthorized("Email or password is wrong", kind="invalid-credentials")
        token = security.issue_token(
            user["id"],
            user["role"],
            settings.jwt_secret,
            settings.jwt_ttl_seconds,
            version=user["token_version"],
        )
        return {"token": token, "token_type": "Bearer", "expires_in": settings.jwt_ttl_seconds}


@blp.route("/me")
class Me(MethodView):
    @blp.auth()
    @blp.response(200, UserOut)
    def get(self):
        """The signed-in user"""
        user = repository.get(security.current_principal().id)
        if user is None:  # the token outlived its account
            raise Unauthorized("This account no longer exists")
        return user

    @blp.auth()
    @blp.arguments(
        MeUpdateIn,
        example={"password": "a new passphrase", "current_password": "correct horse battery"},
    )
    @blp.response(200, UserOut)
    @blp.problems(
        "malformed-request",
        "unsupported-media-type",
        "current-password-required",
        "wrong-current-password",
        "email-taken",
        "payload-too-large",
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
