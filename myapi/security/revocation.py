"""Revocation state, answered in one storage round trip per authenticated request.

A token is live only while its user exists and is active, its session is live
and belongs to that user, and its own `jti` is not on the denylist. An OAuth
client's token (it carries `client_id`) is live only while the client exists and
is active, the client's current credential is the one the token was issued under
(`sid`: rotating the secret or disabling the client ends all its tokens at once),
and its `jti` is not denied. Logout, logout-all, password change, reuse detection
and disabling all act through `revoke_sessions` and `revoke_token`, so every
worker on every host sees a revocation on its next request: there is no
per-process cache of revocation state.

The SQL database is the source of truth. Without Redis, one query reads user
(or client), session and denylist state. With `REDIS_URL`, Redis mirrors it (one
MGET per request): a key per live session holding its user id (an allowlist, so
an unknown or foreign session is refused), a key per denied `jti`, the user's
role and status, and a client's credential id, status and allowed scopes. Cached
user and client state is dropped before and after each change's commit
(`user_changed`, `client_changed`), so the next request reads the committed row.
Revocations reach Redis *before* the database commit, so a failure can only
over-revoke, never leave a revoked token live; each key expires when the tokens
it speaks for would have; and a sentinel key lets any worker notice that Redis
lost its data and rebuild the mirror from the database first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from flask import Flask, current_app
from sqlalchemy import ColumnElement, delete, exists, or_, select, update

from myapi.clock import epoch_seconds, utcnow
from myapi.extensions import db
from myapi.models import (
    CLIENT_ID_FORMAT,
    AuthSession,
    OAuthClient,
    PersonalAccessToken,
    RevokedToken,
    User,
)

_USER_ID = re.compile(r"[0-9]{1,18}")
_PREFIX = "myapi:revocation:"
_SENTINEL = _PREFIX + "loaded"
_USER_STATE_SECONDS = 600
# Cached in place of a user's or client's state when the row does not exist.
_NO_ROW = "-"


@dataclass(frozen=True)
class TokenStatus:
    """The holder's state for one token: a user's, or (with `client_id`) an OAuth client's.

    For a client, `session_live` says the token's credential is the client's current one,
    and `client_scopes` are the scopes the client may hold now.
    """

    user_id: int | None
    role: str
    active: bool
    session_live: bool
    jti_revoked: bool
    user: User | None = None
    client_id: str | None = None
    client_scopes: tuple[str, ...] = ()

    @property
    def revoked(self) -> bool:
        holder_known = self.user_id is not None or self.client_id is not None
        return not holder_known or not self.active or not self.session_live or self.jti_revoked


UNKNOWN = TokenStatus(user_id=None, role="", active=False, session_live=False, jti_revoked=True)


def _token_ids(claims: dict[str, Any]) -> tuple[int, str, str] | None:
    sub, sid, jti = claims.get("sub"), claims.get("sid"), claims.get("jti")
    if not (isinstance(sub, str) and _USER_ID.fullmatch(sub)):
        return None
    if not (isinstance(sid, str) and isinstance(jti, str)):
        return None
    return int(sub), sid, jti


def _client_token_ids(claims: dict[str, Any]) -> tuple[str, str, str] | None:
    """A client token names its client twice (`sub` and `client_id`); both must agree."""
    client_id, sid, jti = claims.get("client_id"), claims.get("sid"), claims.get("jti")
    if not (isinstance(client_id, str) and CLIENT_ID_FORMAT.fullmatch(client_id)):
        return None
    if claims.get("sub") != client_id or not (isinstance(sid, str) and isinstance(jti, str)):
        return None
    return client_id, sid, jti


def _client_status(
    client_id: str, sid: str, state: tuple[str, bool, str], jti_revoked: bool
) -> TokenStatus:
    credential_id, active, scope = state
    return TokenStatus(
        user_id=None,
        role="",
        active=active,
        session_live=credential_id == sid,
        jti_revoked=jti_revoked,
        client_id=client_id,
        client_scopes=tuple(scope.split()),
    )


class SqlRevocationStore:
    """The database alone: one query joins user, session and denylist."""

    def status(self, claims: dict[str, Any]) -> TokenStatus:
        if "client_id" in claims:
            return self._client_token_status(claims)
        ids = _token_ids(claims)
        if ids is None:
            return UNKNOWN
        user_id, sid, jti = ids
        session_live = exists().where(
            AuthSession.id == sid,
            AuthSession.user_id == User.id,
            AuthSession.revoked_at.is_(None),
        )
        jti_revoked = exists().where(RevokedToken.jti == jti)
        row = db.session.execute(
            select(User, session_live, jti_revoked).where(User.id == user_id)
        ).first()
        if row is None:
            return UNKNOWN
        user, live, revoked = row
        return TokenStatus(user.id, user.role, user.is_active, bool(live), bool(revoked), user)

    def _client_token_status(self, claims: dict[str, Any]) -> TokenStatus:
        """One query: the client's row with EXISTS for the `jti` in the denylist."""
        ids = _client_token_ids(claims)
        if ids is None:
            return UNKNOWN
        client_id, sid, jti = ids
        row = db.session.execute(
            select(
                OAuthClient.credential_id,
                OAuthClient.is_active,
                OAuthClient.scope,
                exists().where(RevokedToken.jti == jti),
            ).where(OAuthClient.client_id == client_id)
        ).first()
        if row is None:
            return UNKNOWN
        credential_id, active, scope, revoked = row
        return _client_status(client_id, sid, (credential_id, active, scope), bool(revoked))

    def session_live_until(self, session_id: str, user_id: int, expires_at: datetime) -> None:
        """Nothing to mirror: the row is the state."""

    def sessions_revoked(self, session_ids: Iterable[str]) -> None:
        """Nothing to mirror: the rows are the state."""

    def token_revoked(self, jti: str, expires_at: datetime) -> None:
        """Nothing to mirror: the row is the state."""

    def user_changed(self, user_id: int) -> None:
        """Nothing to mirror: the row is the state."""

    def client_changed(self, client_id: str) -> None:
        """Nothing to mirror: the row is the state."""


class RedisRevocationStore:
    """A Redis mirror of the revocation state, shared by every worker and host."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def status(self, claims: dict[str, Any]) -> TokenStatus:
        if "client_id" in claims:
            return self._client_token_status(claims)
        ids = _token_ids(claims)
        if ids is None:
            return UNKNOWN
        user_id, sid, jti = ids
        keys = [_SENTINEL, _PREFIX + "jti:" + jti, _PREFIX + "sid:" + sid, self._user_key(user_id)]
        loaded, jti_marker, sid_owner, user_state = self.client.mget(keys)
        if loaded is None:
            self.rebuild()
            loaded, jti_marker, sid_owner, user_state = self.client.mget(keys)
        if user_state is None:
            user_state = self._cache_user_state(user_id)
        if user_state == _NO_ROW:
            return UNKNOWN
        role, _, active = user_state.partition(":")
        session_live = sid_owner == str(user_id)
        return TokenStatus(user_id, role, active == "1", session_live, jti_marker is not None)

    def _client_token_status(self, claims: dict[str, Any]) -> TokenStatus:
        """One MGET: the sentinel, the `jti` denial key and the client's cached state."""
        ids = _client_token_ids(claims)
        if ids is None:
            return UNKNOWN
        client_id, sid, jti = ids
        keys = [_SENTINEL, _PREFIX + "jti:" + jti, self._client_key(client_id)]
        loaded, jti_marker, client_state = self.client.mget(keys)
        if loaded is None:
            self.rebuild()
            loaded, jti_marker, client_state = self.client.mget(keys)
        if client_state is None:
            client_state = self._cache_client_state(client_id)
        if client_state == _NO_ROW:
            return UNKNOWN
        credential_id, active, scope = client_state.split(" ", 2)
        return _client_status(
            client_id, sid, (credential_id, active == "1", scope), jti_marker is not None
        )

    def session_live_until(self, session_id: str, user_id: int, expires_at: datetime) -> None:
        """Allow the session's tokens until the last of them expires (set at login and refresh)."""
        pipe = self.client.pipeline(transaction=False)
        self._mark(pipe, _PREFIX + "sid:" + session_id, expires_at, value=str(user_id))
        pipe.execute()

    def sessions_revoked(self, session_ids: Iterable[str]) -> None:
        keys = [_PREFIX + "sid:" + session_id for session_id in session_ids]
        if keys:
            self.client.delete(*keys)

    def token_revoked(self, jti: str, expires_at: datetime) -> None:
        pipe = self.client.pipeline(transaction=False)
        self._mark(pipe, _PREFIX + "jti:" + jti, expires_at)
        pipe.execute()

    def user_changed(self, user_id: int) -> None:
        """Forget the cached role and state; the next request reads the committed row."""
        self.client.delete(self._user_key(user_id))

    def client_changed(self, client_id: str) -> None:
        """Forget the cached credential, status and scopes; the next request reads the row."""
        self.client.delete(self._client_key(client_id))

    def ping(self) -> None:
        self.client.ping()

    def rebuild(self) -> None:
        """Re-create every key from the database, then the sentinel (after a Redis data loss)."""
        now = utcnow()
        sessions = db.session.execute(
            select(
                AuthSession.id,
                AuthSession.user_id,
                AuthSession.refresh_expires_at,
                AuthSession.access_expires_at,
            ).where(AuthSession.revoked_at.is_(None))
        ).all()
        tokens = db.session.execute(
            select(RevokedToken.jti, RevokedToken.expires_at).where(RevokedToken.expires_at > now)
        ).all()
        pipe = self.client.pipeline(transaction=False)
        for sid, user_id, refresh, access in sessions:
            self._mark(pipe, _PREFIX + "sid:" + sid, max(refresh, access), value=str(user_id))
        for jti, expires_at in tokens:
            self._mark(pipe, _PREFIX + "jti:" + jti, expires_at)
        pipe.set(_SENTINEL, epoch_seconds(now))
        pipe.execute()

    def _cache_user_state(self, user_id: int) -> str:
        row = db.session.execute(
            select(User.role, User.is_active).where(User.id == user_id)
        ).first()
        state = _NO_ROW if row is None else f"{row.role}:{int(row.is_active)}"
        self.client.set(self._user_key(user_id), state, ex=_USER_STATE_SECONDS)
        return state

    def _cache_client_state(self, client_id: str) -> str:
        row = db.session.execute(
            select(OAuthClient.credential_id, OAuthClient.is_active, OAuthClient.scope).where(
                OAuthClient.client_id == client_id
            )
        ).first()
        state = _NO_ROW if row is None else f"{row[0]} {int(row[1])} {row[2]}"
        self.client.set(self._client_key(client_id), state, ex=_USER_STATE_SECONDS)
        return state

    @staticmethod
    def _user_key(user_id: int) -> str:
        return f"{_PREFIX}user:{user_id}"

    @staticmethod
    def _client_key(client_id: str) -> str:
        return f"{_PREFIX}client:{client_id}"

    @staticmethod
    def _mark(pipe: Any, key: str, expires_at: datetime, value: str = "1") -> None:
        """Queue a key that lives exactly as long as the tokens it speaks for."""
        leeway = current_app.config["JWT_LEEWAY_SECONDS"]
        seconds = epoch_seconds(expires_at) - epoch_seconds(utcnow()) + leeway
        if seconds > 0:
            pipe.set(key, value, ex=seconds)


RevocationStore = SqlRevocationStore | RedisRevocationStore


def create_revocation_store(app: Flask) -> RevocationStore:
    url = app.config["REDIS_URL"]
    if not url:
        return SqlRevocationStore()
    client = redis.Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=app.config["REDIS_TIMEOUT_SECONDS"],
        socket_connect_timeout=app.config["REDIS_TIMEOUT_SECONDS"],
        health_check_interval=30,
    )
    return RedisRevocationStore(client)


def revocation_store() -> RevocationStore:
    return current_app.extensions["revocation_store"]


def token_status(claims: dict[str, Any]) -> TokenStatus:
    """User (or client), session and denylist state for a token's claims, in one round trip."""
    return revocation_store().status(claims)


def revoke_sessions(*conditions: ColumnElement[bool]) -> int:
    """Revoke every live session matching `conditions`; the caller commits.

    The mirror is written before the caller's commit: if it fails, the database
    change rolls back and the caller sees the error, so nothing is half-revoked.
    """
    revoked = db.session.scalars(
        update(AuthSession)
        .where(AuthSession.revoked_at.is_(None), *conditions)
        .values(revoked_at=utcnow())
        .returning(AuthSession.id)
        .execution_options(synchronize_session=False)
    ).all()
    revocation_store().sessions_revoked(revoked)
    return len(revoked)


def revoke_token(jti: str, expires_at: datetime) -> None:
    """Deny one token by `jti` until it would have expired anyway; the caller commits."""
    revocation_store().token_revoked(jti, expires_at)
    if db.session.get(RevokedToken, jti) is None:
        db.session.add(RevokedToken(jti=jti, expires_at=expires_at))


def prune_expired(now: datetime | None = None) -> tuple[int, int, int]:
    """Delete rows that no longer guard a live token; returns the counts.

    Sessions and denylist entries go once their tokens have expired; a personal access
    token's row goes once it has expired or been revoked (its token is dead either way).
    """
    now = now or utcnow()
    sessions = db.session.execute(
        delete(AuthSession).where(
            AuthSession.refresh_expires_at < now, AuthSession.access_expires_at < now
        )
    ).rowcount
    tokens = db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now)).rowcount
    personal = db.session.execute(
        delete(PersonalAccessToken).where(
            or_(PersonalAccessToken.expires_at < now, PersonalAccessToken.revoked_at.is_not(None))
        )
    ).rowcount
    db.session.commit()
    return sessions, tokens, personal
