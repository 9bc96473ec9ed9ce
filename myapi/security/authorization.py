"""The decorators views state their access rules with: `require_scope` and `require_refresh_token`.

Each authenticates the request (`authentication.authenticate`) and checks the principal;
the answers for each refusal are made in `security.policy`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from myapi.openapi import BEARER_SCHEME, Blueprint
from myapi.security.authentication import REQUIRES_TOKEN, authenticate, credential_from_cookie
from myapi.security.principal import Kind
from myapi.security.scopes import (
    AppTokenRefused,
    FreshLoginRequired,
    InsufficientScope,
    UserTokenRequired,
)


def require_scope(
    *required: str,
    fresh: bool = False,
    clients: bool = False,
    apps: bool = False,
    refresh_cookie: bool = False,
) -> Callable[[Callable], Callable]:
    """Admit only a live access token whose effective scope holds every `required` scope.

    With no scope named, any live access token passes. `fresh=True` further demands a
    recent password login, for account changes. An OAuth client's token passes only where
    `clients=True` says the operation makes sense for a service acting for itself;
    elsewhere it is a 403, however broad its scope. A third-party app's token (acting for a
    user who consented) passes only where `apps=True` says the operation serves the user's
    own data within a scope (notes; the admin endpoints, whose scopes only an admin's
    consent can grant); never on the account and its credentials. `refresh_cookie=True`
    also admits the session's refresh token when the browser-mode cookie presented it (with
    its CSRF value): logging out must work from what a browser still holds once its access
    token expired.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            principal = authenticate(refresh=refresh_cookie and credential_from_cookie())
            if principal.kind is Kind.CLIENT and not clients:
                raise UserTokenRequired()
            if principal.kind is Kind.DELEGATED and not apps:
                raise AppTokenRefused()
            if fresh and not principal.fresh:
                raise FreshLoginRequired()
            if not principal.scopes.issuperset(required):
                raise InsufficientScope(required)
            return view(*args, **kwargs)

        setattr(guarded, REQUIRES_TOKEN, True)
        responses = {"401": "UNAUTHORIZED"}
        if required or not clients:
            responses["403"] = "FORBIDDEN"
        return Blueprint.doc(
            security=[{BEARER_SCHEME: []}],
            responses=responses,
            **{
                "x-required-scopes": list(required),
                "x-admits-client-tokens": clients,
                "x-admits-app-tokens": apps,
            },
        )(guarded)

    return decorator


def require_refresh_token(view: Callable) -> Callable:
    """Admit only a live refresh token of a login session (for `/auth/refresh`).

    An app's refresh token is refused: it is refreshed at `/oauth/token`, where the app
    authenticates.
    """

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if authenticate(refresh=True).kind is Kind.DELEGATED:
            raise AppTokenRefused()
        return view(*args, **kwargs)

    setattr(guarded, REQUIRES_TOKEN, True)
    return Blueprint.doc(security=[{BEARER_SCHEME: []}], responses={"401": "UNAUTHORIZED"})(guarded)
