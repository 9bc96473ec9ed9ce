"""Any token handed to the OAuth endpoints: is it active, whose is it, and how it is ended.

A token is active only when it passes exactly the checks a bearer request makes: the
signature and standard claims (`tokens.decode_verified`, or the lookup of a personal
access token), the claim checks (`tokens.claims_are_well_formed`), and the revocation
state of its holder. Introspection reports active tokens only; revocation acts on active
tokens only, since ending an expired or revoked one would change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt
from flask_jwt_extended.exceptions import JWTExtendedException

from myapi.clock import from_epoch
from myapi.extensions import db
from myapi.logs import audit
from myapi.models import AuthSession, User
from myapi.security.personal_tokens import revoke_personal_token
from myapi.security.policy import holder_status
from myapi.security.revocation import TokenStatus, revoke_sessions, revoke_token
from myapi.security.tokens import claims_are_well_formed, decode_presented


@dataclass(frozen=True)
class Holder:
    """Who a token speaks for, or who calls: a user (by id) or an OAuth client (by id)."""

    user_id: int | None = None
    client_id: str | None = None


@dataclass(frozen=True)
class ActiveToken:
    token: str
    claims: dict[str, Any]
    status: TokenStatus

    @property
    def holder(self) -> Holder:
        if self.status.client_id is not None:
            return Holder(client_id=self.status.client_id)
        return Holder(user_id=self.status.user_id)

    @property
    def kind(self) -> str:
        """`client`, `personal`, `refresh` or `access` (a user's session access token)."""
        if self.status.client_id is not None:
            return "client"
        if "pat_id" in self.claims:
            return "personal"
        return self.claims["type"]


def active_token(token: str) -> ActiveToken | None:
    """The token with its holder's state when it would be accepted now; else None."""
    try:
        _header, claims = decode_presented(token)
    except (jwt.PyJWTError, JWTExtendedException):
        return None
    if not claims_are_well_formed(claims):
        return None
    status = holder_status(claims)
    if status.revoked:
        return None
    return ActiveToken(token, claims, status)


def introspection_claims(active: ActiveToken) -> dict[str, Any]:
    """RFC 7662 2.2 members for an active token: its claims, named as the RFC names them."""
    claims = active.claims
    members = {name: claims[name] for name in ("scope", "sub", "exp", "iat", "nbf", "iss", "aud")}
    members["jti"] = claims["jti"]
    members["token_type"] = "refresh_token" if claims["type"] == "refresh" else "access_token"
    if active.status.client_id is not None:
        members["client_id"] = active.status.client_id
    else:
        user = active.status.user or db.session.get(User, active.status.user_id)
        members["username"] = user.username
    return {"active": True} | members


def end_token(active: ActiveToken) -> None:
    """Revoke `active` at its holder's request: a refresh token ends its session, a personal
    token its row, any other token is denied by `jti` until it would have expired."""
    kind = active.kind
    if kind == "personal":
        revoke_personal_token(active.token, active.status.user_id)
    elif kind == "refresh":
        revoke_sessions(
            AuthSession.id == active.claims["sid"], AuthSession.user_id == active.status.user_id
        )
        db.session.commit()
    else:
        revoke_token(active.claims["jti"], from_epoch(active.claims["exp"]))
        db.session.commit()
    audit(
        "token_revoked_on_request",
        kind=kind,
        jti=active.claims["jti"],
        user_id=active.holder.user_id,
        client_id=active.holder.client_id,
    )
