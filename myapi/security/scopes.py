"""Scopes: what each role or OAuth client may be granted, and the one decorator enforcing them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import TYPE_CHECKING, Any

from flask import current_app, g
from flask_jwt_extended import get_jwt, get_jwt_header, verify_jwt_in_request
from flask_jwt_extended.exceptions import FreshTokenRequired
from werkzeug.exceptions import Forbidden

from myapi.clock import utcnow
from myapi.openapi import BEARER_SCHEME, Blueprint

if TYPE_CHECKING:
    from myapi.security.revocation import TokenStatus

ROLE_SCOPES: dict[str, tuple[str, ...]] = {
    "user": ("notes:read", "notes:write"),
    "admin": ("notes:read", "notes:write", "users:read", "users:write"),
}
ROLES = tuple(ROLE_SCOPES)
ALL_SCOPES = ROLE_SCOPES["admin"]
# What an OAuth client (a service, not a person) may hold. `notes:write` is for users only:
# a note needs an owner. `introspect` is for clients only: it lets a resource server ask
# /oauth/introspect about tokens.
CLIENT_SCOPES = ("notes:read", "users:read", "users:write", "introspect")
_SCOPE_ORDER = tuple(dict.fromkeys(ALL_SCOPES + CLIENT_SCOPES))


class InsufficientScope(Forbidden):
    """The token is valid but lacks a scope the operation needs (RFC 6750 3.1)."""

    def __init__(self, required: Iterable[str]) -> None:
        super().__init__()
        self.required = tuple(required)


class UserTokenRequired(Forbidden):
    """A client's token at an operation that acts for a person (a note's owner, an account)."""


def parse_scope(text: str | None) -> set[str]:
    return set((text or "").split())


def format_scope(scopes: Iterable[str]) -> str:
    """Space-separated, in a stable order, so equal grants print equally; unknown ones dropped."""
    wanted = set(scopes)
    return " ".join(scope for scope in _SCOPE_ORDER if scope in wanted)


def granted_scopes(claims: dict[str, Any], status: TokenStatus) -> set[str]:
    """The token's scopes its holder may still use: the user's current role, or the client's
    current allowance, so a demotion or a scope taken from a client bites at once."""
    if status.client_id is not None:
        allowed = set(status.client_scopes)
    else:
        allowed = set(ROLE_SCOPES.get(status.role, ()))
    return parse_scope(claims.get("scope")) & allowed


def is_fresh(claims: dict[str, Any]) -> bool:
    """Fresh = issued by a password login within FRESH_LOGIN_MINUTES, never by a refresh."""
    window = current_app.config["FRESH_LOGIN_MINUTES"] * 60
    return claims.get("fresh") is True and utcnow().timestamp() - claims["iat"] <= window


def require_scope(
    *required: str, fresh: bool = False, clients: bool = False
) -> Callable[[Callable], Callable]:
    """Admit only a live access token holding every `required` scope (none: any live token).

    `fresh=True` further demands a recent password login, for account changes. An OAuth
    client's token passes only where `clients=True` says the operation makes sense for a
    service acting for itself; elsewhere it is a 403, however broad its scope.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            verify_jwt_in_request()
            claims = get_jwt()
            status = g.token_status
            if status.client_id is not None and not clients:
                raise UserTokenRequired()
            if fresh and not is_fresh(claims):
                raise FreshTokenRequired("fresh login required", get_jwt_header(), claims)
            if not set(required) <= granted_scopes(claims, status):
                raise InsufficientScope(required)
            return view(*args, **kwargs)

        responses = {"401": "UNAUTHORIZED"}
        if required or not clients:
            responses["403"] = "FORBIDDEN"
        return Blueprint.doc(
            security=[{BEARER_SCHEME: []}],
            responses=responses,
            **{"x-required-scopes": list(required), "x-admits-client-tokens": clients},
        )(guarded)

    return decorator
