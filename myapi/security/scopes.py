"""Scopes: what each role or OAuth client may hold, and the one rule that grants them.

Every credential carries the scopes it was granted. What it may do *now* is always
`effective_scope(granted, allowance)`: the granted scopes narrowed to what its holder
may have today (a user's role, an OAuth client's allowance). Login, refresh, personal
access tokens, client tokens, introspection and token-info all call that one function,
so a demotion or a narrowed client bites everywhere at once and no credential can ever
mint a wider one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ROLE_SCOPES: dict[str, frozenset[str]] = {
    "user": frozenset({"notes:read", "notes:write"}),
    "admin": frozenset({"notes:read", "notes:write", "users:read", "users:write"}),
}
ROLES = tuple(ROLE_SCOPES)
#: Every scope a user can hold, in the order answers print them.
USER_SCOPES = ("notes:read", "notes:write", "users:read", "users:write")
# What an OAuth client (a service, not a person) may hold. `notes:write` is for users only:
# a note needs an owner. `introspect` is for clients only: it lets a resource server ask
# /oauth/introspect about tokens.
CLIENT_SCOPES = ("notes:read", "users:read", "users:write", "introspect")
# OpenID Connect: sign-in (`openid`) and what /oauth/userinfo tells an app about the user.
OPENID_SCOPES = ("openid", "profile", "email")
# What a third-party app may ask a user for (authorization code grant): the user's own
# scopes, and sign-in. Whether the user may hold them is still up to the role.
DELEGATED_SCOPES = USER_SCOPES + OPENID_SCOPES
_SCOPE_ORDER = tuple(dict.fromkeys(USER_SCOPES + CLIENT_SCOPES + OPENID_SCOPES))


class InsufficientScope(Exception):
    """The credential is valid but lacks a scope the operation needs (RFC 6750 3.1)."""

    def __init__(self, required: Iterable[str]) -> None:
        super().__init__()
        self.required = tuple(required)


class UserTokenRequired(Exception):
    """A client's token at an operation that acts for a person (a note's owner, an account)."""


class AppTokenRefused(Exception):
    """An app's token (delegated by a user) at an operation on the account or its
    credentials, which only the user may do themselves."""


class FreshLoginRequired(Exception):
    """The operation needs a token from a recent password login."""


def parse_scope(text: str | Iterable[str] | None) -> frozenset[str]:
    """A scope string (space-separated) or a collection of scopes, as a set."""
    if text is None:
        return frozenset()
    if isinstance(text, str):
        return frozenset(text.split())
    return frozenset(text)


def scope_syntax(names: Iterable[str]) -> str:
    """A regular expression for one or more of `names`, separated (and surrounded) by spaces.

    What a `scope` parameter may say, published in the OpenAPI document as its `pattern`
    and enforced with the same expression (`myapi.openapi.Pattern`).
    """
    one = "(?:" + "|".join(re.escape(name) for name in names) + ")"
    return f" *{one}(?: +{one})* *"


def format_scope(scopes: Iterable[str]) -> str:
    """Space-separated, in a stable order, so equal grants print equally; unknown ones dropped."""
    wanted = set(scopes)
    return " ".join(scope for scope in _SCOPE_ORDER if scope in wanted)


def role_allowance(role: str) -> frozenset[str]:
    """What a user with `role` may hold; an unknown role may hold nothing."""
    return ROLE_SCOPES.get(role, frozenset())


def delegated_allowance(role: str) -> frozenset[str]:
    """What an app acting for a user with `role` may hold: the role's scopes and sign-in."""
    return role_allowance(role) | frozenset(OPENID_SCOPES)


def effective_scope(
    granted: str | Iterable[str] | None, allowance: Iterable[str]
) -> frozenset[str]:
    """The one scope rule: what was granted, narrowed to what the holder may have now.

    Applied at every grant (login, refresh, personal and client tokens) and every
    answer about a credential (introspection, token-info, each request's scope check),
    so the scope a credential shows is never more than its holder may hold today.
    """
    return parse_scope(granted) & frozenset(allowance)
