"""Revocation state, answered in one storage round trip per authenticated request.

A token is live only while its user exists and is active, its session exists
and is not revoked, and its own `jti` is not on the denylist. Logout, logout-all,
password change, reuse detection and disabling all act through these rows, so
every worker sees a revocation on its next request: there is no per-process cache.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, select, update

from myapi.clock import utcnow
from myapi.extensions import db
from myapi.models import AuthSession, RevokedToken, User

_USER_ID = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True)
class TokenStatus:
    user: User | None
    session_live: bool
    jti_revoked: bool

    @property
    def revoked(self) -> bool:
        return (
            self.user is None
            or not self.user.is_active
            or not self.session_live
            or self.jti_revoked
        )

    @property
    def role(self) -> str:
        return self.user.role if self.user else ""


UNKNOWN = TokenStatus(user=None, session_live=False, jti_revoked=True)


def token_status(claims: dict[str, Any]) -> TokenStatus:
    """User, session and denylist state for a token's claims, in a single query."""
    sub, sid, jti = claims.get("sub"), claims.get("sid"), claims.get("jti")
    if not (isinstance(sub, str) and _USER_ID.fullmatch(sub)):
        return UNKNOWN
    if not (isinstance(sid, str) and isinstance(jti, str)):
        return UNKNOWN
    session_live = exists().where(
        AuthSession.id == sid, AuthSession.user_id == User.id, AuthSession.revoked_at.is_(None)
    )
    jti_revoked = exists().where(RevokedToken.jti == jti)
    row = db.session.execute(
        select(User, session_live, jti_revoked).where(User.id == int(sub))
    ).first()
    if row is None:
        return UNKNOWN
    user, live, revoked = row
    return TokenStatus(user=user, session_live=bool(live), jti_revoked=bool(revoked))


def revoke_sessions(*conditions: ColumnElement[bool]) -> int:
    """Revoke every live session matching `conditions`; the caller commits."""
    result = db.session.execute(
        update(AuthSession)
        .where(AuthSession.revoked_at.is_(None), *conditions)
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def revoke_token(jti: str, expires_at: datetime) -> None:
    """Deny one token by `jti` until it would have expired anyway; the caller commits."""
    if db.session.get(RevokedToken, jti) is None:
        db.session.add(RevokedToken(jti=jti, expires_at=expires_at))


def prune_expired(now: datetime | None = None) -> tuple[int, int]:
    """Delete sessions and denylist rows whose tokens have all expired; returns the counts."""
    now = now or utcnow()
    sessions = db.session.execute(
        delete(AuthSession).where(
            AuthSession.refresh_expires_at < now, AuthSession.access_expires_at < now
        )
    ).rowcount
    tokens = db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now)).rowcount
    db.session.commit()
    return sessions, tokens
