"""Token policy: every flask-jwt-extended loader and every authentication answer, in one place.

The library's defaults (422 answers, `{"msg": ...}` bodies, no `WWW-Authenticate`)
are replaced here by RFC 6750 challenges in problem+json bodies whose text never
carries the library's exception message.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, request

from myapi.errors import problem
from myapi.extensions import jwt
from myapi.logs import audit
from myapi.security.authentication import TokenRejected, check_revocation
from myapi.security.scopes import (
    AppTokenRefused,
    FreshLoginRequired,
    InsufficientScope,
    UserTokenRequired,
    format_scope,
)
from myapi.security.tokens import (
    decode_verified,
    signing_key_for_current_token,
)

REALM = "myapi"


# A comma followed by an auth-scheme name and a space (or the end): the start of a second
# credential (RFC 9110 11.6.2), as opposed to an auth-param (`, name=value`).
_ANOTHER_CREDENTIAL = re.compile(r",\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s|$)")


def bearer_challenge(error: str | None = None, **params: str) -> str:
    """An RFC 6750 `WWW-Authenticate` value; no `error` when no credentials were sent."""
    attributes = {"realm": REALM} | ({"error": error} if error else {}) | params
    return "Bearer " + ", ".join(f'{name}="{value}"' for name, value in attributes.items())


def no_credentials(_reason: str) -> Response:
    return problem(
        401,
        "This operation needs a bearer token in the Authorization header.",
        slug="unauthenticated",
        headers={"WWW-Authenticate": bearer_challenge()},
    )


def invalid_token(
    reason: str, detail: str = "The bearer token is invalid, expired or revoked."
) -> Response:
    """The one 401 `invalid_token` answer; `reason` goes to the audit log only."""
    audit("token_rejected", reason=reason)
    return problem(
        401,
        detail,
        slug="invalid-token",
        headers={"WWW-Authenticate": bearer_challenge("invalid_token")},
    )


def fresh_login_required(*_: Any) -> Response:
    return problem(
        401,
        "This operation needs a token from a recent password login; log in again.",
        slug="fresh-login-required",
        headers={"WWW-Authenticate": bearer_challenge("insufficient_user_authentication")},
    )


def insufficient_scope(error: InsufficientScope) -> Response:
    scope = format_scope(error.required)
    audit("scope_denied", required=scope)
    return problem(
        403,
        f"The token lacks the scope this operation needs: {scope}.",
        slug="insufficient-scope",
        headers={"WWW-Authenticate": bearer_challenge("insufficient_scope", scope=scope)},
    )


def user_token_required(_error: UserTokenRequired) -> Response:
    """A client's token where only a person's will do: scope cannot fix it, so no scope named."""
    audit("client_token_refused")
    return problem(
        403,
        "This operation acts for a user: an OAuth client's token cannot be used here.",
        slug="user-token-required",
        headers={"WWW-Authenticate": bearer_challenge("insufficient_scope")},
    )


def app_token_refused(_error: AppTokenRefused) -> Response:
    """An app's delegated token where only the user themselves may act: scope cannot fix it."""
    audit("app_token_refused")
    return problem(
        403,
        "Only the user can do this: a third-party app's token cannot be used here.",
        slug="app-token-refused",
        headers={"WWW-Authenticate": bearer_challenge("insufficient_scope")},
    )


class TwoCredentials(Exception):
    """A request carrying more than one credential (answered by `two_credentials`, or by the
    OAuth blueprint as RFC 6749 JSON)."""


def two_credentials(_error: TwoCredentials) -> Response:
    return problem(
        400,
        "Send exactly one credential, in the Authorization header only.",
        slug="invalid-request",
        headers={"WWW-Authenticate": bearer_challenge("invalid_request")},
    )


def normalize_authorization() -> None:
    """Match the auth scheme case-insensitively (RFC 9110 11.1); refuse two credentials.

    Two credentials in one request are an `invalid_request` (RFC 6750 3.1), never a silent
    choice: two in the header (joined by a comma, as a server joins two Authorization
    headers; `Basic x, Bearer t` would otherwise authenticate with the bearer token
    flask-jwt-extended finds after the comma), or the header plus `?access_token=`.
    """
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    bearer = scheme.lower() == "bearer"
    if bearer and scheme != "Bearer":
        request.environ["HTTP_AUTHORIZATION"] = "Bearer " + credentials.strip()
    if "access_token" in request.args or _ANOTHER_CREDENTIAL.search(header):
        raise TwoCredentials


def register_token_policy(app: Flask) -> None:
    """Every loader of flask-jwt-extended, the answers to every authentication failure, and
    the header normalisation that runs before any of them."""
    jwt.token_decoder(decode_verified)
    jwt.encode_key_loader(signing_key_for_current_token)
    jwt.token_in_blocklist_loader(check_revocation)
    jwt.unauthorized_loader(no_credentials)
    jwt.invalid_token_loader(lambda _reason: invalid_token("malformed"))
    jwt.expired_token_loader(lambda _header, _claims: invalid_token("expired"))
    jwt.revoked_token_loader(lambda _header, _claims: invalid_token("revoked"))
    jwt.user_lookup_error_loader(lambda _header, _claims: invalid_token("unknown_user"))
    jwt.needs_fresh_token_loader(fresh_login_required)
    app.before_request(normalize_authorization)
    app.register_error_handler(TwoCredentials, two_credentials)
    app.register_error_handler(TokenRejected, lambda error: invalid_token(error.reason))
    app.register_error_handler(FreshLoginRequired, fresh_login_required)
    app.register_error_handler(InsufficientScope, insufficient_scope)
    app.register_error_handler(UserTokenRequired, user_token_required)
    app.register_error_handler(AppTokenRefused, app_token_refused)
