"""Any token handed to the OAuth endpoints: is it active, and whose is it.

A token is active only when it passes exactly the checks a bearer request makes
(`authentication.inspect_token`: the same verification, claim checks and revocation
state, and the same principal with its effective scope). Introspection reports active
tokens only; revocation (`services.sessions.end_token`) acts on active tokens only, since
ending an expired or revoked one would change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from myapi.security.authentication import inspect_token
from myapi.security.principal import Kind, Principal


@dataclass(frozen=True)
class Holder:
    """Who a token speaks for, or who calls: a user (by id) or an OAuth client (by id)."""

    user_id: int | None = None
    client_id: str | None = None


def holder_of(principal: Principal) -> Holder:
    if principal.kind is Kind.CLIENT:
        return Holder(client_id=principal.client_id)
    return Holder(user_id=principal.user_id)


@dataclass(frozen=True)
class ActiveToken:
    token: str
    principal: Principal
    claims: dict[str, Any] | None  # None for a personal access token, which is no JWT

    @property
    def holder(self) -> Holder:
        return holder_of(self.principal)

    @property
    def kind(self) -> str:
        """`client`, `personal`, `refresh` or `access` (a session's or an app's grant)."""
        if self.principal.kind in (Kind.SESSION, Kind.DELEGATED):
            return self.principal.token_type
        return self.principal.kind.value

    def revocable_by(self, caller: Holder) -> bool:
        """Its holder may revoke it, and so may the app a delegated token was issued to."""
        if self.holder == caller:
            return True
        app = Holder(client_id=self.principal.client_id)
        return self.principal.kind is Kind.DELEGATED and caller == app


def active_token(token: str) -> ActiveToken | None:
    """The token with its principal when it would be accepted now; else None."""
    inspected = inspect_token(token)
    if inspected is None:
        return None
    principal, claims = inspected
    return ActiveToken(token, principal, claims)


def introspection_claims(active: ActiveToken) -> dict[str, Any]:
    """RFC 7662 2.2 members for an active token; `scope` is the effective scope."""
    principal, claims = active.principal, active.claims or {}
    config = current_app.config
    members: dict[str, Any] = {
        "active": True,
        "scope": principal.scope,
        "sub": principal.subject,
        "exp": principal.expires_at,
        "iat": principal.issued_at,
        "nbf": claims.get("nbf", principal.issued_at),
        "iss": claims.get("iss", config["JWT_ISSUER"]),
        "aud": claims.get("aud", config["JWT_AUDIENCE"]),
        "jti": principal.token_id,
        "token_type": "refresh_token" if principal.token_type == "refresh" else "access_token",
    }
    if principal.client_id is not None:
        members["client_id"] = principal.client_id
    if principal.kind is not Kind.CLIENT:
        assert principal.account is not None
        members["username"] = principal.account.username
    return members
