"""Token policy: every flask-jwt-extended loader, registered in one place by the factory.

The library's defaults (422 answers, `{"msg": ...}` bodies, no `WWW-Authenticate`)
are replaced here by RFC 6750 challenges in problem+json bodies whose text never
carries the library's exception message.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, g, request

from myapi.errors import problem
from myapi.extensions import jwt
from myapi.logs import audit
from myapi.security.personal_tokens import personal_token_status
from myapi.security.revocation import TokenStatus, token_status
from myapi.security.scopes import InsufficientScope, UserTokenRequired, format_scope
from myapi.security.tokens import claims_are_well_formed

REALM = "myapi"
_SECOND_BEARER = re.compile(r",\s*bearer\b", re.IGNORECASE)


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


def holder_status(claims: dict[str, Any]) -> TokenStatus:
    """The state of whoever a token speaks for, in one storage round trip.

    A personal access token's state is its own row, read with the token itself; every
    other token's comes from the revocation store.
    """
    if "pat_id" in claims:
        return personal_token_status(claims)
    return token_status(claims)


def is_revoked(_header: dict[str, Any], claims: dict[str, Any]) -> bool:
    """The blocklist loader, whose answer the request keeps."""
    g.token_status = holder_status(claims)
    return g.token_status.revoked


def normalize_authorization() -> Response | None:
    """Match the auth scheme case-insensitively (RFC 9110 11.1); refuse a token sent twice.

    Two tokens in one request (two bearer credentials in the header, or the header plus
    `?access_token=`) are an `invalid_request` (RFC 6750 3.1), never a silent choice.
    """
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    bearer = scheme.lower() == "bearer"
    if bearer and scheme != "Bearer":
        request.environ["HTTP_AUTHORIZATION"] = "Bearer " + credentials.strip()
    if "access_token" in request.args or (bearer and _SECOND_BEARER.search(credentials)):
        return problem(
            400,
            "Send exactly one token, in the Authorization header only.",
            slug="invalid-request",
            headers={"WWW-Authenticate": bearer_challenge("invalid_request")},
        )
    return None


def register_token_policy(app: Flask) -> None:
    # No decode key loader: extensions.SingleDecodeJWTManager verifies each token in one
    # pass with the configured key, and checks the raw claims there (tokens.decode_verified).
    jwt.token_in_blocklist_loader(is_revoked)
    jwt.token_verification_loader(lambda _header, claims: claims_are_well_formed(claims))
    jwt.unauthorized_loader(no_credentials)
    jwt.invalid_token_loader(lambda _reason: invalid_token("malformed"))
    jwt.expired_token_loader(lambda _header, _claims: invalid_token("expired"))
    jwt.revoked_token_loader(lambda _header, _claims: invalid_token("revoked"))
    jwt.user_lookup_error_loader(lambda _header, _claims: invalid_token("unknown_user"))
    jwt.token_verification_failed_loader(lambda _header, _claims: invalid_token("bad_claims"))
    jwt.needs_fresh_token_loader(fresh_login_required)
    app.before_request(normalize_authorization)
    app.register_error_handler(InsufficientScope, insufficient_scope)
    app.register_error_handler(UserTokenRequired, user_token_required)
