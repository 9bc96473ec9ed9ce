"""Issuing token pairs for a session; flask-jwt-extended signs them.

Every claim is set here explicitly (`jti`, `iat`, `nbf`, `exp` from the session
row), so a pair is a pure function of its session: the grace window can hand
back exactly the pair a refresh already issued without ever storing a token.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token

from myapi.clock import epoch_seconds, utcnow
from myapi.models import AuthSession


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    scope: str
    token_type: str = "Bearer"


def new_token_id() -> str:
    return str(uuid.uuid4())


def next_pair_columns(session_expires_at: datetime, now: datetime) -> dict[str, Any]:
    """Session columns describing a new current pair: new ids, lifetimes counted from `now`."""
    config = current_app.config
    now = now.replace(microsecond=0)
    return {
        "access_jti": new_token_id(),
        "refresh_jti": new_token_id(),
        "pair_issued_at": now,
        "access_expires_at": now + timedelta(minutes=config["ACCESS_TOKEN_MINUTES"]),
        # A refresh token lives REFRESH_TOKEN_DAYS past its last use, never past the session's end.
        "refresh_expires_at": min(
            now + timedelta(days=config["REFRESH_TOKEN_DAYS"]), session_expires_at
        ),
    }


def encode_pair(session: AuthSession, *, fresh: bool) -> TokenPair:
    """Sign the session's current pair; the same session state always signs the same bytes."""
    identity = str(session.user_id)
    common = {
        "iat": epoch_seconds(session.pair_issued_at),
        "nbf": epoch_seconds(session.pair_issued_at),
        "sid": session.id,
        "scope": session.scope,
    }
    access = create_access_token(
        identity,
        fresh=fresh,
        additional_claims=common
        | {"jti": session.access_jti, "exp": epoch_seconds(session.access_expires_at)},
    )
    refresh = create_refresh_token(
        identity,
        additional_claims=common
        | {"jti": session.refresh_jti, "exp": epoch_seconds(session.refresh_expires_at)},
    )
    return TokenPair(
        access_token=access,
        refresh_token=refresh,
        expires_in=max(0, epoch_seconds(session.access_expires_at) - epoch_seconds(utcnow())),
        scope=session.scope,
    )


def token_lifetime_limit(token_type: str) -> int:
    """The longest `exp - iat` a token of this type may claim, in seconds."""
    config = current_app.config
    if token_type == "refresh":
        return config["REFRESH_TOKEN_DAYS"] * 86400
    return config["ACCESS_TOKEN_MINUTES"] * 60


REQUIRED_CLAIMS = ("sub", "jti", "iat", "nbf", "exp", "type", "iss", "aud", "sid", "scope")
TOKEN_TYPES = ("access", "refresh")


def has_required_claims(raw_claims: dict[str, Any]) -> bool:
    """Every claim we issue is present in the token as sent.

    Checked on the raw claims: flask-jwt-extended later fills in a missing `type`
    ("access"), `fresh` and `jti`, which would hide their absence.
    """
    return all(name in raw_claims for name in REQUIRED_CLAIMS)


def claims_are_well_formed(claims: dict[str, Any]) -> bool:
    """Beyond the signature: a known token type, typed claims, and no overlong lifetime."""
    if any(name not in claims for name in REQUIRED_CLAIMS) or claims["type"] not in TOKEN_TYPES:
        return False
    text_claims = ("sub", "jti", "sid", "scope", "type")
    if not all(isinstance(claims[name], str) for name in text_claims):
        return False
    times = (claims["iat"], claims["nbf"], claims["exp"])
    if not all(isinstance(t, int | float) and not isinstance(t, bool) for t in times):
        return False
    return 0 < claims["exp"] - claims["iat"] <= token_lifetime_limit(claims["type"])
