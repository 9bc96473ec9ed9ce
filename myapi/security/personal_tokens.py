"""Personal access tokens (PATs): long-lived opaque credentials a user makes for scripts.

A PAT is `myapi_pat_` followed by 32 random bytes in base64url, so secret scanners can
spot a leaked one by its prefix. Only its SHA-256 is stored: with 256 bits of entropy
there is nothing to brute-force (unlike a password), so a fast unsalted hash is enough,
and it lets a presented token be found by an indexed equality lookup.

Presented as `Authorization: Bearer`, a PAT becomes synthetic claims shaped like a session
access token (`decode_personal_token`), so `require_scope` and the token policy treat it
like one. It is never fresh: it cannot do what needs a recent password login (changing
the password, making PATs). Its liveness is read from the database, never from the
revocation mirror: the lookup by hash that finds the token reads its owner's role and
state in the same query, `personal_token_status` reuses that row (kept in `flask.g`), so
one query per request answers both, and a revocation, expiry, disabling or demotion bites
on the next request on every worker.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Any

from flask import current_app, g
from flask_jwt_extended.exceptions import JWTDecodeError
from sqlalchemy import ColumnElement, Row, func, select, update

from myapi.clock import epoch_seconds, utcnow
from myapi.extensions import db
from myapi.logs import audit
from myapi.models import PersonalAccessToken, User
from myapi.security.revocation import UNKNOWN, TokenStatus
from myapi.security.scopes import ROLE_SCOPES, format_scope, parse_scope

PAT_PREFIX = "myapi_pat_"
DEFAULT_DAYS = 30
# Enough for every script a person runs; a bound keeps a stolen fresh login from minting
# an unbounded number of credentials, and keeps the listing one short page.
MAX_LIVE_TOKENS = 50
# `last_used_at` is written at most once a minute per token, so an ordinary request by a
# busy script reads only: the listing shows the last use to the minute.
LAST_USED_RESOLUTION = timedelta(minutes=1)

_SHAPE = re.compile(re.escape(PAT_PREFIX) + r"[A-Za-z0-9_-]{43}")


class ScopeBeyondRole(Exception):
    """The requested scopes exceed what the owner's role allows (the scope ceiling)."""

    def __init__(self, excess: set[str]) -> None:
        super().__init__()
        self.excess = excess


class TooManyTokens(Exception):
    """The owner already has MAX_LIVE_TOKENS live tokens."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _live() -> ColumnElement[bool]:
    """Neither revoked nor expired."""
    return PersonalAccessToken.revoked_at.is_(None) & (PersonalAccessToken.expires_at > utcnow())


def issue_personal_token(
    user: User, name: str, scope: str, expires_in_days: int
) -> tuple[PersonalAccessToken, str]:
    """Create a token for `user`; returns its row and the token, which is never stored."""
    requested = parse_scope(scope)
    excess = requested - set(ROLE_SCOPES.get(user.role, ()))
    if excess:
        raise ScopeBeyondRole(excess)
    # Lock the owner's row while counting (PostgreSQL), so two concurrent requests cannot
    # both take the last place.
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    count = select(func.count()).where(PersonalAccessToken.user_id == user.id, _live())
    if db.session.scalar(count) >= MAX_LIVE_TOKENS:
        db.session.rollback()
        raise TooManyTokens
    token = PAT_PREFIX + secrets.token_urlsafe(32)
    now = utcnow().replace(microsecond=0)
    record = PersonalAccessToken(
        user_id=user.id,
        name=name,
        token_hash=token_hash(token),
        scope=format_scope(requested),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days),
    )
    db.session.add(record)
    db.session.commit()
    audit(
        "personal_token_created",
        user_id=user.id,
        token_id=record.id,
        scope=record.scope,
        expires_at=record.expires_at.isoformat(),
    )
    return record, token


def live_personal_tokens(user_id: int) -> list[PersonalAccessToken]:
    """The user's tokens that still work, newest first."""
    return list(
        db.session.scalars(
            select(PersonalAccessToken)
            .where(PersonalAccessToken.user_id == user_id, _live())
            .order_by(PersonalAccessToken.created_at.desc(), PersonalAccessToken.id.desc())
        )
    )


def _lookup(condition: ColumnElement[bool]) -> Row[Any] | None:
    """The token's columns and its owner, in one query.

    Columns rather than the ORM row: the row object would sit in the session's identity
    map and could hide a later change (last use, revocation) from the same session.
    """
    return db.session.execute(
        select(
            PersonalAccessToken.id,
            PersonalAccessToken.user_id,
            PersonalAccessToken.scope,
            PersonalAccessToken.created_at,
            PersonalAccessToken.expires_at,
            PersonalAccessToken.last_used_at,
            PersonalAccessToken.revoked_at,
            User,
        )
        .join(User, User.id == PersonalAccessToken.user_id)
        .where(condition)
    ).first()


def decode_personal_token(token: str) -> dict[str, Any]:
    """The synthetic claims of a presented PAT; JWTDecodeError when malformed or unknown.

    Expiry and revocation are judged by `personal_token_status`, which the blocklist
    loader calls next and which reuses the row found here.
    """
    if not _SHAPE.fullmatch(token):
        raise JWTDecodeError("malformed personal access token")
    found = _lookup(PersonalAccessToken.token_hash == token_hash(token))
    if found is None:
        raise JWTDecodeError("unknown personal access token")
    g.personal_token = found
    return _claims(found)


def _claims(found: Row[Any]) -> dict[str, Any]:
    config = current_app.config
    ids = f"pat-{found.id}"
    return {
        "sub": str(found.user_id),
        "type": "access",
        "fresh": False,
        "jti": ids,
        "sid": ids,
        "scope": found.scope,
        "iat": epoch_seconds(found.created_at),
        "nbf": epoch_seconds(found.created_at),
        "exp": epoch_seconds(found.expires_at),
        "iss": config["JWT_ISSUER"],
        "aud": config["JWT_AUDIENCE"],
        "pat_id": found.id,
    }


def personal_token_status(claims: dict[str, Any]) -> TokenStatus:
    """Live while not revoked, not expired, and its owner exists and is active.

    The role is the owner's current one, so `require_scope`'s intersection of the
    token's scope with the role makes a demotion bite at once.
    """
    found = _row_for(claims)
    if found is None:
        return UNKNOWN
    user: User = found.User
    token_live = found.revoked_at is None and found.expires_at > utcnow()
    if token_live and user.is_active:
        _record_use(found)
    else:
        audit(
            "personal_token_refused",
            user_id=user.id,
            token_id=found.id,
            reason=_refusal(found, token_live),
        )
    return TokenStatus(
        user_id=user.id,
        role=user.role,
        active=user.is_active,
        # The token's own row plays the part of a session; there is no jti to deny.
        session_live=token_live,
        jti_revoked=False,
        user=user,
    )


def _row_for(claims: dict[str, Any]) -> Row[Any] | None:
    """The row `decode_personal_token` found in this request, else read again by id."""
    found = g.pop("personal_token", None)
    if found is None or found.id != claims.get("pat_id"):
        found = _lookup(PersonalAccessToken.id == claims.get("pat_id"))
    if found is None or str(found.user_id) != claims.get("sub"):
        return None
    return found


def _refusal(found: Row[Any], token_live: bool) -> str:
    if token_live:
        return "owner_disabled"
    return "revoked" if found.revoked_at is not None else "expired"


def _record_use(found: Row[Any]) -> None:
    """Note the use, at most once per LAST_USED_RESOLUTION: no write per ordinary request.

    Committed at once (nothing else is pending before the view runs), since a read-only
    view never commits.
    """
    now = utcnow()
    if found.last_used_at is not None and now - found.last_used_at < LAST_USED_RESOLUTION:
        return
    db.session.execute(
        update(PersonalAccessToken)
        .where(PersonalAccessToken.id == found.id)
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def revoke_personal_token(token: str, user_id: int) -> bool:
    """Revoke a token presented in full; False when it is unknown or not `user_id`'s."""
    if not _SHAPE.fullmatch(token):
        return False
    return _revoke_one(
        PersonalAccessToken.token_hash == token_hash(token), user_id, reason="revoked"
    )


def revoke_owned_token(token_id: int, user_id: int, *, reason: str) -> bool:
    """Revoke one of the user's tokens by id; False when there is no such unrevoked token."""
    return _revoke_one(PersonalAccessToken.id == token_id, user_id, reason=reason)


def _revoke_one(condition: ColumnElement[bool], user_id: int, *, reason: str) -> bool:
    revoked = _revoke_where(condition, PersonalAccessToken.user_id == user_id)
    db.session.commit()
    for token_id in revoked:
        audit("personal_token_revoked", user_id=user_id, token_id=token_id, reason=reason)
    return bool(revoked)


def revoke_user_tokens(user_id: int) -> int:
    """Revoke every token of the user; the caller commits and audits (with the count)."""
    return len(_revoke_where(PersonalAccessToken.user_id == user_id))


def _revoke_where(*conditions: ColumnElement[bool]) -> list[int]:
    return list(
        db.session.scalars(
            update(PersonalAccessToken)
            .where(PersonalAccessToken.revoked_at.is_(None), *conditions)
            .values(revoked_at=utcnow())
            .returning(PersonalAccessToken.id)
            .execution_options(synchronize_session=False)
        )
    )
