"""Scopes: what each role may be granted, and the one decorator that enforces them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from flask import current_app, g
from flask_jwt_extended import get_jwt, get_jwt_header, verify_jwt_in_request
from flask_jwt_extended.exceptions import FreshTokenRequired
from werkzeug.exceptions import Forbidden

from myapi.clock import utcnow
from myapi.openapi import BEARER_SCHEME, Blueprint

ROLE_SCOPES: dict[str, tuple[str, ...]] = {
    "user": ("notes:read", "notes:write"),
    "admin": ("notes:read", "notes:write", "users:read", "users:write"),
}
ROLES = tuple(ROLE_SCOPES)
ALL_SCOPES = ROLE_SCOPES["admin"]


class InsufficientScope(Forbidden):
    """The token is valid but lacks a scope the operation needs (RFC 6750 3.1)."""

    def __init__(self, required: Iterable[str]) -> None:
        super().__init__()
        self.required = tuple(required)


def parse_scope(text: str | None) -> set[str]:
    return set((text or "").split())


def format_scope(scopes: Iterable[str]) -> str:
    """Space-separated, in a stable order, so equal grants print equally."""
    wanted = set(scopes)
    return " ".join(scope for scope in ALL_SCOPES if scope in wanted)


def granted_scopes(claims: dict[str, Any], role: str) -> set[str]:
    """The token's scopes still allowed by the user's current role: demotion bites at once."""
    return parse_scope(claims.get("scope")) & set(ROLE_SCOPES.get(role, ()))


def is_fresh(claims: dict[str, Any]) -> bool:
    """Fresh = issued by a password login within FRESH_LOGIN_MINUTES, never by a refresh."""
    window = current_app.config["FRESH_LOGIN_MINUTES"] * 60
    return claims.get("fresh") is True and utcnow().timestamp() - claims["iat"] <= window


def require_scope(*required: str, fresh: bool = False) -> Callable[[Callable], Callable]:
    """Admit only a live access token holding every `required` scope (none: any live token).

    `fresh=True` further demands a recent password login, for account changes.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            verify_jwt_in_request()
            claims = get_jwt()
            if fresh and not is_fresh(claims):
                raise FreshTokenRequired("fresh login required", get_jwt_header(), claims)
            if not set(required) <= granted_scopes(claims, g.token_status.role):
                raise InsufficientScope(required)
            return view(*args, **kwargs)

        responses = (
            {"401": "UNAUTHORIZED", "403": "FORBIDDEN"} if required else {"401": "UNAUTHORIZED"}
        )
        return Blueprint.doc(
            security=[{BEARER_SCHEME: []}],
            responses=responses,
            **{"x-required-scopes": list(required)},
        )(guarded)

    return decorator
