"""The principal: who a request acts as, decided once per request and kept in one slot.

Authentication (`security.authentication`) turns the request's credential into one
immutable `Principal`. Views, the scope check, the request log and audit events all read
that value; nothing else looks at claims to guess what kind of token it was.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from flask import has_request_context, request

from myapi.security.scopes import format_scope

# Kept in the WSGI environ, not in `flask.g`: an app context (and with it `g`) can outlive
# a request, a request's environ cannot.
_SLOT = "myapi.principal"


class Kind(enum.StrEnum):
    """What kind of credential authenticated the request."""

    SESSION = "session"  # a token pair from a password login
    PERSONAL = "personal"  # a personal access token
    CLIENT = "client"  # an OAuth client's own token (client credentials)
    DELEGATED = "delegated"  # an app's token acting for a user who consented (code grant)


@dataclass(frozen=True, slots=True)
class Account:
    """A user's public fields, as `/auth/me` shows them (the password hash is never here)."""

    id: int
    username: str
    email: str
    role: str
    is_active: bool
    created_at: datetime
    email_verified: bool


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of one request.

    `scopes` are the effective ones (`scopes.effective_scope`): what the credential was
    granted, narrowed to what its holder may have now. `token_id` is the token's `jti`,
    or a personal access token's row id. `account` is the user's public fields where
    the revocation check already read them (every user principal), so `/auth/me` needs
    no query of its own.
    """

    kind: Kind
    token_type: str  # "access" or "refresh"
    user_id: int | None
    client_id: str | None
    scopes: frozenset[str]
    fresh: bool
    session_id: str | None
    token_id: str
    issued_at: int
    expires_at: int
    account: Account | None = None

    @property
    def scope(self) -> str:
        return format_scope(self.scopes)

    @property
    def subject(self) -> str:
        """The `sub` this principal's tokens carry: the user id, or the client id."""
        return self.client_id if self.kind is Kind.CLIENT else str(self.user_id)


def current_principal() -> Principal | None:
    """This request's principal, once authentication has run; None before or without it."""
    if not has_request_context():
        return None
    return request.environ.get(_SLOT)


def caller() -> Principal:
    """The principal of a view guarded by `require_scope` (which guarantees there is one)."""
    principal = current_principal()
    if principal is None:
        raise RuntimeError("caller() is only for views guarded by require_scope")
    return principal


def keep_principal(principal: Principal) -> None:
    request.environ[_SLOT] = principal
