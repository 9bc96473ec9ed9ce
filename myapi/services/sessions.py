"""Sessions: log in, rotate at refresh, end at logout, list and revoke, and end any token.

Rotation is a compare-and-swap on the session's current refresh `jti`, so of several
concurrent refreshes with one token exactly one advances the session; the others, inside
the grace window, receive that same new pair. Any later presentation of a rotated token
is reuse: the whole session is revoked.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Request, current_app
from sqlalchemy import delete, not_, or_, select, update

from myapi.clock import from_epoch, utcnow
from myapi.extensions import db
from myapi.models import AuthSession, PersonalAccessToken, RevokedToken, User
from myapi.security.authentication import TokenRejected
from myapi.security.personal_tokens import row_id_of
from myapi.security.principal import Kind, Principal
from myapi.security.revocation import (
    client_holder,
    earliest_accepted_expiry,
    revocation_store,
    revoke_sessions,
    revoke_token,
    user_holder,
)
from myapi.security.scopes import effective_scope, format_scope, role_allowance
from myapi.security.tokens import TokenPair, encode_pair, next_pair_columns
from myapi.services import accounts, personal_tokens, verification
from myapi.services.transactions import UnitOfWork, unit_of_work


class LoginRefused(Exception):
    """Unknown account, wrong password or disabled account: one answer for all three."""


class EmailNotVerified(Exception):
    """The right password, but REQUIRE_VERIFIED_EMAIL is on and the address is unverified."""


class NoGrantableScope(Exception):
    """The login asked only for scopes the account's role cannot hold."""


@dataclass(frozen=True)
class Device:
    """Where a login comes from, as the sessions list shows it."""

    user_agent: str
    ip: str

    @classmethod
    def of(cls, request: Request) -> Device:
        """The request's client, cut to the widths the sessions table keeps."""
        return cls(request.user_agent.string[:255], (request.remote_addr or "")[:45])


def log_in(identifier: str, password: str, scope: str | None, device: Device) -> TokenPair:
    """Exchange a password for a new session's token pair; its first access token is fresh.

    The session, a stronger hash of the password (when the stored one was made with weaker
    parameters than configured) and the audit event are one unit of work.
    """
    user, refusal = accounts.check_password(identifier, password)
    if refusal is not None:
        with unit_of_work() as work:
            # The identifier as typed is not logged: people type passwords into that field.
            work.audit("login_failed", user_id=user.id if user else None, reason=refusal)
        raise LoginRefused
    assert user is not None
    if current_app.config["REQUIRE_VERIFIED_EMAIL"] and not user.email_verified:
        verification.remind(user)
        raise EmailNotVerified
    allowance = role_allowance(user.role)
    granted = effective_scope(scope or allowance, allowance)
    if not granted:
        raise NoGrantableScope
    new_hash = accounts.upgraded_hash(user, password)
    with unit_of_work() as work:
        if new_hash is not None:
            user.password_hash = new_hash
        session = _open_session(work, user, format_scope(granted), device)
        work.audit("login_succeeded", user_id=user.id, session_id=session.id, scope=session.scope)
    return encode_pair(session, fresh=True)


def start_session(user: User, scope: str, device: Device) -> TokenPair:
    """A new session for an account already authenticated (the bench seeds sessions so)."""
    with unit_of_work() as work:
        session = _open_session(work, user, scope, device)
    return encode_pair(session, fresh=True)


def open_app_session(
    work: UnitOfWork,
    user: User,
    scope: str,
    client_id: str,
    device: Device,
) -> AuthSession:
    """A grant to a third-party app, inside the caller's unit of work: a session the app
    owns (its tokens name it), rotating and revocable like any other."""
    return _open_session(work, user, scope, device, client_id=client_id)


def _open_session(
    work: UnitOfWork,
    user: User,
    scope: str,
    device: Device,
    *,
    client_id: str | None = None,
) -> AuthSession:
    now = utcnow()
    expires_at = now + timedelta(days=current_app.config["SESSION_MAX_DAYS"])
    session = AuthSession(
        id=secrets.token_hex(16),
        user_id=user.id,
        scope=scope,
        created_at=now,
        last_used_at=now,
        expires_at=expires_at,
        user_agent=device.user_agent,
        ip=device.ip,
        client_id=client_id,
        **next_pair_columns(expires_at, now),
    )
    db.session.add(session)
    _allow_until_expiry(session)
    return session


def _allow_until_expiry(session: AuthSession) -> None:
    expires_at = max(session.access_expires_at, session.refresh_expires_at)
    revocation_store().session_live_until(session.user_id, session.id, expires_at)


def rotate(principal: Principal) -> TokenPair:
    """Exchange a refresh token for a new pair, detecting reuse of rotated tokens.

    The new pair carries the session's scope narrowed to what the account may hold now
    (`scopes.effective_scope`, already in the principal), and the session keeps the
    narrowed scope: a demotion shrinks every token the session will ever issue again.
    """
    session_id, presented = principal.session_id, principal.token_id
    scope = format_scope(principal.scopes)
    now = utcnow()
    with unit_of_work() as work:
        session = db.session.get(AuthSession, session_id)
        if session is None:
            raise TokenRejected("revoked")
        if session.last_used_at <= idle_cutoff(now) and presented == session.refresh_jti:
            # Idle too long. A refresh token issued now never outlives SESSION_IDLE_DAYS, but
            # one issued before the setting was lowered (or existed) can: this check ends it.
            # A rotated token goes on to reuse detection, as it would without the setting.
            raise TokenRejected("idle")
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
        if advanced:
            db.session.refresh(session)
            _allow_until_expiry(session)
            work.audit(
                "token_refreshed", user_id=session.user_id, session_id=session_id, scope=scope
            )
    db.session.refresh(session)
    if advanced:
        return encode_pair(session, fresh=False)
    if _within_grace(session, presented):
        with unit_of_work() as work:
            work.audit("token_refresh_retried", user_id=session.user_id, session_id=session_id)
        return encode_pair(session, fresh=False)
    with unit_of_work() as work:
        revoke_sessions(AuthSession.id == session_id)
        work.audit("refresh_reuse_detected", user_id=session.user_id, session_id=session_id)
    raise TokenRejected("revoked")


def idle_cutoff(now: datetime) -> datetime:
    """Sessions last used at or before this moment have ended by idleness."""
    return now - timedelta(days=current_app.config["SESSION_IDLE_DAYS"])


def _within_grace(session: AuthSession, presented: str) -> bool:
    """A retry or a concurrent twin of the refresh that just rotated this token."""
    if session.revoked_at is not None or session.rotated_at is None:
        return False
    grace = timedelta(seconds=current_app.config["REFRESH_GRACE_SECONDS"])
    return session.previous_refresh_jti == presented and utcnow() - session.rotated_at <= grace


def end_session(principal: Principal) -> None:
    """Logout: the presented access token and its whole session, refresh token included.

    A personal access token has no session: logging out with one revokes that token.
    """
    if principal.kind is Kind.PERSONAL:
        personal_tokens.revoke(row_id_of(principal.token_id), principal.user_id, reason="logout")
        return
    with unit_of_work() as work:
        revoke_sessions(AuthSession.id == principal.session_id)
        expires_at = from_epoch(principal.expires_at)
        revoke_token(user_holder(principal.user_id), principal.token_id, expires_at)
        work.audit("logout", user_id=principal.user_id, session_id=principal.session_id)


def end_token(principal: Principal) -> str:
    """Revoke a token at its holder's request (RFC 7009); returns what kind it was.

    A refresh token ends its session, a personal token its row, any other token is denied
    by `jti` until it would have expired.
    """
    grant = principal.kind in (Kind.SESSION, Kind.DELEGATED)
    kind = principal.token_type if grant else principal.kind.value
    if kind == "personal":
        personal_tokens.revoke(row_id_of(principal.token_id), principal.user_id, reason="revoked")
        return kind
    with unit_of_work() as work:
        if kind == "refresh":
            revoke_sessions(
                AuthSession.id == principal.session_id, AuthSession.user_id == principal.user_id
            )
        else:
            holder = (
                client_holder(principal.client_id)
                if principal.kind is Kind.CLIENT
                else user_holder(principal.user_id)
            )
            revoke_token(holder, principal.token_id, from_epoch(principal.expires_at))
        work.audit(
            "token_revoked_on_request",
            kind=kind,
            jti=principal.token_id,
            user_id=principal.user_id,
            client_id=principal.client_id,
        )
    return kind


def live_sessions(user_id: int, current_session_id: str | None) -> list[dict[str, Any]]:
    """The user's login sessions that can still refresh, most recently used first (grants
    to third-party apps are sessions too, listed as connected apps instead)."""
    now = utcnow()
    sessions = db.session.scalars(
        select(AuthSession)
        .where(
            AuthSession.user_id == user_id,
            AuthSession.client_id.is_(None),
            AuthSession.revoked_at.is_(None),
            AuthSession.refresh_expires_at > now,
            AuthSession.last_used_at > idle_cutoff(now),
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
    with unit_of_work() as work:
        revoked = revoke_sessions(AuthSession.id == session_id, AuthSession.user_id == user_id)
        if revoked:
            work.audit("session_revoked", user_id=user_id, session_id=session_id)
    return bool(revoked)


def prune_expired(now: datetime | None = None) -> tuple[int, int, int]:
    """Delete rows that no longer guard a live token; returns the counts.

    Sessions go once their tokens have expired or they have been idle longer than
    SESSION_IDLE_DAYS (and their last access token has expired), denylist entries once their
    tokens have expired: for a JWT, that is JWT_LEEWAY_SECONDS after its `exp`, since
    verifiers accept it until then (a denial pruned sooner would let a revoked token back in).
    A personal access token's row goes once the token is no longer live (expired or revoked).
    """
    now = now or utcnow()
    expired = earliest_accepted_expiry(now)
    with unit_of_work():
        sessions = db.session.execute(
            delete(AuthSession).where(
                or_(
                    AuthSession.refresh_expires_at < expired,
                    AuthSession.last_used_at <= idle_cutoff(now),
                ),
                AuthSession.access_expires_at < expired,
            )
        ).rowcount
        tokens = db.session.execute(
            delete(RevokedToken).where(RevokedToken.expires_at < expired)
        ).rowcount
        personal = db.session.execute(
            delete(PersonalAccessToken).where(not_(personal_tokens.live_at(now)))
        ).rowcount
    return sessions, tokens, personal
