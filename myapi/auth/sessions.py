"""Session lifecycle: start at login, rotate at refresh, end at logout.

Rotation is a compare-and-swap on the session's current refresh `jti`, so of
several concurrent refreshes with one token exactly one advances the session;
the others, inside the grace window, receive that same new pair. Any later
presentation of a rotated token is reuse: the whole session is revoked.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from flask import current_app, request
from sqlalchemy import select, update

from myapi.clock import from_epoch, utcnow
from myapi.extensions import db
from myapi.logs import audit
from myapi.models import AuthSession, User
from myapi.security.authentication import TokenRejected
from myapi.security.personal_tokens import revoke_owned_token, row_id_of
from myapi.security.principal import Kind, Principal
from myapi.security.revocation import (
    revocation_store,
    revoke_sessions,
    revoke_token,
    user_holder,
)
from myapi.security.scopes import format_scope
from myapi.security.tokens import TokenPair, encode_pair, next_pair_columns


def start_session(user: User, scope: str) -> TokenPair:
    """A new session for a password login; its first access token is fresh."""
    now = utcnow()
    expires_at = now + timedelta(days=current_app.config["SESSION_MAX_DAYS"])
    session = AuthSession(
        id=secrets.token_hex(16),
        user_id=user.id,
        scope=scope,
        created_at=now,
        last_used_at=now,
        expires_at=expires_at,
        user_agent=request.user_agent.string[:255],
        ip=(request.remote_addr or "")[:45],
        **next_pair_columns(expires_at, now),
    )
    db.session.add(session)
    db.session.commit()
    _allow_until_expiry(session)
    audit("login_succeeded", user_id=user.id, session_id=session.id, scope=scope)
    return encode_pair(session, fresh=True)


def _allow_until_expiry(session: AuthSession) -> None:
    expires_at = max(session.access_expires_at, session.refresh_expires_at)
    revocation_store().session_live_until(session.user_id, session.id, expires_at)


def rotate(principal: Principal) -> TokenPair:
    """Exchange a refresh token for a new pair, detecting reuse of rotated tokens.

    The new pair carries the session's scope narrowed to what the account may hold now
    (`scopes.effective_scope`), and the session keeps the narrowed scope: a demotion
    shrinks every token the session will ever issue again.
    """
    session_id, presented = principal.session_id, principal.token_id
    session = db.session.get(AuthSession, session_id)
    if session is None:
        raise TokenRejected("revoked")
    now = utcnow()
    scope = format_scope(principal.scopes)
    advanced = db.session.execute(
        update(AuthSession)
        .where(
            AuthSession.id == session_id,
            AuthSession.refresh_jti == presented,
            AuthSession.revoked_at.is_(None),
        )
        .values(
            scope=scope,
            previous_refresh_jti=presented,
            rotated_at=now,
            last_used_at=now,
            **next_pair_columns(session.expires_at, now),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    session = db.session.get(AuthSession, session_id)
    if advanced:
        _allow_until_expiry(session)
        audit("token_refreshed", user_id=session.user_id, session_id=session_id, scope=scope)
        return encode_pair(session, fresh=False)
    if _within_grace(session, presented):
        audit("token_refresh_retried", user_id=session.user_id, session_id=session_id)
        return encode_pair(session, fresh=False)
    revoke_sessions(AuthSession.id == session_id)
    db.session.commit()
    audit("refresh_reuse_detected", user_id=session.user_id, session_id=session_id)
    raise TokenRejected("revoked")


def _within_grace(session: AuthSession | None, presented: str) -> bool:
    """A retry or a concurrent twin of the refresh that just rotated this token."""
    if session is None or session.revoked_at is not None or session.rotated_at is None:
        return False
    grace = timedelta(seconds=current_app.config["REFRESH_GRACE_SECONDS"])
    return session.previous_refresh_jti == presented and utcnow() - session.rotated_at <= grace


def end_session(principal: Principal) -> None:
    """Logout: the presented access token and its whole session, refresh token included.

    A personal access token has no session: logging out with one revokes that token.
    """
    if principal.kind is Kind.PERSONAL:
        revoke_owned_token(row_id_of(principal.token_id), principal.user_id, reason="logout")
        return
    revoke_sessions(AuthSession.id == principal.session_id)
    holder = user_holder(principal.user_id)
    revoke_token(holder, principal.token_id, from_epoch(principal.expires_at))
    db.session.commit()
    audit("logout", user_id=principal.user_id, session_id=principal.session_id)


def live_sessions(user_id: int, current_session_id: str | None) -> list[dict[str, Any]]:
    """The user's sessions that can still refresh, most recently used first."""
    sessions = db.session.scalars(
        select(AuthSession)
        .where(
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.refresh_expires_at > utcnow(),
        )
        .order_by(AuthSession.last_used_at.desc(), AuthSession.id)
    )
    return [
        {
            "id": s.id,
            "created_at": s.created_at,
            "last_used_at": s.last_used_at,
            "user_agent": s.user_agent,
            "ip": s.ip,
            "current": s.id == current_session_id,
        }
        for s in sessions
    ]


def revoke_own_session(user_id: int, session_id: str) -> bool:
    """Revoke one of the user's live sessions; False when there is no such session of theirs."""
    revoked = revoke_sessions(AuthSession.id == session_id, AuthSession.user_id == user_id)
    db.session.commit()
    if revoked:
        audit("session_revoked", user_id=user_id, session_id=session_id)
    return bool(revoked)
