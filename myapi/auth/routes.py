"""HTTP endpoints of the token lifecycle; the rules live in accounts, sessions and security."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask_jwt_extended import get_jwt, get_jwt_header, jwt_required
from flask_smorest import abort

from myapi.accounts import (
    AccountConflict,
    create_user,
    find_user,
    revoke_all_sessions,
    set_password,
)
from myapi.auth.browser import clears_refresh_cookie, deliver_tokens
from myapi.auth.schemas import (
    LoginSchema,
    PasswordChangeSchema,
    RegisterSchema,
    SessionSchema,
    TokenInfoSchema,
    TokenPairSchema,
    UserSchema,
)
from myapi.auth.sessions import (
    end_session,
    live_sessions,
    revoke_own_session,
    rotate,
    start_session,
)
from myapi.errors import problem
from myapi.extensions import limiter
from myapi.logs import audit
from myapi.openapi import BEARER_SCHEME, Blueprint
from myapi.ratelimits import login_account_key
from myapi.security.identity import current_user
from myapi.security.passwords import hash_password, needs_rehash, verify_password
from myapi.security.policy import bearer_challenge
from myapi.security.scopes import ROLE_SCOPES, format_scope, is_fresh, parse_scope, require_scope

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Accounts and tokens.")


def _limit(setting: str) -> Any:
    return lambda: current_app.config[setting]


@blp.route("/register", methods=["POST"])
@limiter.limit(_limit("REGISTER_LIMIT_PER_IP"))
@blp.arguments(RegisterSchema)
@blp.response(201, UserSchema)
@blp.alt_response(409, response="CONFLICT")
def register(data: dict[str, str]) -> Any:
    """Create an account with the `user` role."""
    try:
        return create_user(data["username"], data["email"], data["password"])
    except AccountConflict:
        abort(409, message="An account with this username or email already exists.")


def _login_failed() -> Response:
    """One answer for unknown user, wrong password and disabled account."""
    return problem(
        401,
        "The username or password is incorrect.",
        slug="invalid-credentials",
        headers={"WWW-Authenticate": bearer_challenge()},
    )


@blp.route("/login", methods=["POST"])
@limiter.limit(_limit("LOGIN_LIMIT_PER_IP"))
@limiter.limit(
    _limit("LOGIN_LIMIT_PER_ACCOUNT"),
    key_func=login_account_key,
    deduct_when=lambda response: response.status_code == 401,
)
@blp.arguments(LoginSchema)
@blp.response(200, TokenPairSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@deliver_tokens
def login(credentials: dict[str, str]) -> Any:
    """Exchange a username (or email) and password for an access and a refresh token."""
    user = find_user(credentials["username"])
    valid = verify_password(user.password_hash if user else None, credentials["password"])
    if user is None or not valid or not user.is_active:
        # The identifier as typed is not logged: people type passwords into that field.
        reason = "unknown_user" if user is None else "bad_password" if not valid else "disabled"
        audit("login_failed", user_id=user.id if user else None, reason=reason)
        return _login_failed()
    allowed = set(ROLE_SCOPES[user.role])
    requested = parse_scope(credentials.get("scope")) or allowed
    granted = requested & allowed
    if not granted:
        abort(422, messages={"json": {"scope": ["None of these scopes can be granted."]}})
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(credentials["password"])
    return start_session(user, format_scope(granted))


@blp.route("/refresh", methods=["POST"])
@jwt_required(refresh=True)
@blp.doc(security=[{BEARER_SCHEME: []}], responses={"401": "UNAUTHORIZED"})
@blp.response(200, TokenPairSchema)
@deliver_tokens
def refresh() -> Any:
    """Rotate: present the refresh token as Bearer, get a new pair; the old token dies."""
    return rotate(get_jwt(), get_jwt_header())


@blp.route("/logout", methods=["POST"])
@require_scope()
@blp.response(204)
@clears_refresh_cookie
def logout() -> None:
    """Revoke this access token and its session's refresh token."""
    end_session(get_jwt())


@blp.route("/logout-all", methods=["POST"])
@require_scope()
@blp.response(204)
@clears_refresh_cookie
def logout_all() -> None:
    """Revoke every session of the caller, on every device."""
    revoke_all_sessions(current_user)


@blp.route("/me", methods=["GET"])
@require_scope()
@blp.response(200, UserSchema)
def me() -> Any:
    """The caller's account."""
    return current_user


@blp.route("/token-info", methods=["GET"])
@require_scope(clients=True)
@blp.response(200, TokenInfoSchema)
def token_info() -> Any:
    """The verified claims of the presented access token."""
    claims = get_jwt()
    return {name: claims[name] for name in ("sub", "scope", "sid", "iat", "exp")} | {
        "fresh": is_fresh(claims)
    }


@blp.route("/password", methods=["PUT"])
@require_scope(fresh=True)
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
def change_password(data: dict[str, str]) -> None:
    """Change the password (fresh login required); every other session is revoked."""
    if not verify_password(current_user.password_hash, data["current_password"]):
        audit("password_change_failed", user_id=current_user.id)
        abort(422, messages={"json": {"current_password": ["Incorrect password."]}})
    set_password(current_user, data["new_password"], keep_session=get_jwt()["sid"])


@blp.route("/sessions", methods=["GET"])
@require_scope()
@blp.response(200, SessionSchema(many=True))
def sessions() -> Any:
    """The caller's live sessions; `current` marks the one this token belongs to."""
    return live_sessions(current_user, get_jwt()["sid"])


@blp.route("/sessions/<string(length=32):session_id>", methods=["DELETE"])
@require_scope()
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def revoke_session(session_id: str) -> None:
    """Revoke one of the caller's sessions; anyone else's is a 404."""
    if not revoke_own_session(current_user, session_id):
        abort(404, message="No such session.")
