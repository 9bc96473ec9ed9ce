"""Revocation state, answered in one storage round trip per authenticated request.

A user's token is live only while the user exists and is active, its session is live
and belongs to that user, and its own `jti` is not on the denylist. An OAuth client's
token is live only while the client exists and is active, the client's current
credential is the one the token was issued under (rotating the secret or disabling the
client ends all its tokens at once), and its `jti` is not denied. Every revocation acts
through `revoke_sessions` and `revoke_token`, and every worker on every host sees it on
its next request: there is no per-process cache of revocation state.

The SQL database is the source of truth. Without Redis, one query reads the holder,
session and denylist state. With `REDIS_URL`, Redis mirrors it, one hash tag per holder
(`{u:42}`, `{c:client_...}`) so that everything one request reads sits on one Redis
Cluster slot, next to the caller's rate-limit counter:

- `myapi:revocation:{u:42}:account` the user's public fields as JSON (`-`: no such
  user); it doubles as the sentinel of the user's whole mirror: when it is missing
  (expired, dropped after a change, or Redis lost its data) the next request rebuilds
  the user's session and denylist keys from the database first;
- `...{u:42}:sid:<session id>` `1` while the session is live, `0` once revoked (a
  tombstone, so no late write can bring it back);
- `...{u:42}:jti:<jti>` a denied token, until it would have expired anyway;
- `...{c:<id>}:client` a client's credential id, status and allowed scopes, and
  `...{c:<id>}:jti:<jti>` its denied tokens.

A request reads its three keys in the same round trip as its rate-limit hit
(`stage`, then `adapters.limits_storage`), or with one `MGET` when the limiter did not
run. Revocations reach Redis *before* the database commit, so a failure can only
over-revoke, never leave a revoked token live; cached holder state is dropped before
and after each change's commit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import redis
from flask import Flask, current_app, has_request_context, request
from sqlalchemy import ColumnElement, exists, or_, select, update

from myapi.adapters.limits_storage import PiggybackRead, request_piggyback
from myapi.clock import epoch_seconds, utcnow
from myapi.extensions import db
from myapi.logs import report_recovery
from myapi.models import AuthSession, OAuthClient, RevokedToken, User
from myapi.security.principal import Account

_PREFIX = "myapi:revocation:"
#: Cached holder state lives this long; the mirror of a quiet holder is rebuilt after it.
HOLDER_STATE_SECONDS = 600
# Cached in place of a user's or client's state when the row does not exist.
_NO_ROW = "-"
_LIVE, _REVOKED = "1", "0"
_STAGED = "myapi.revocation_staged"

# Mark a session live unless it has been revoked (a tombstone is never overwritten).
_MARK_LIVE_UNLESS_REVOKED = """
if redis.call("get", KEYS[1]) == ARGV[1] then
    return 0
end
redis.call("set", KEYS[1], ARGV[2], "EX", ARGV[3])
return 1
"""


@dataclass(frozen=True, slots=True)
class SessionTokenRef:
    """A user's token from a login session: whose, which session, which token."""

    user_id: int
    session_id: str
    jti: str

    @property
    def holder(self) -> str:
        return user_holder(self.user_id)


@dataclass(frozen=True, slots=True)
class ClientTokenRef:
    """An OAuth client's own token: which client, under which credential, which token."""

    client_id: str
    credential_id: str
    jti: str

    @property
    def holder(self) -> str:
        return client_holder(self.client_id)


TokenRef = SessionTokenRef | ClientTokenRef


def user_holder(user_id: int) -> str:
    return f"u:{user_id}"


def client_holder(client_id: str) -> str:
    return f"c:{client_id}"


@dataclass(frozen=True, slots=True)
class HolderState:
    """What the store knows of a token: whether it is live, and its holder's current state.

    `account` is a user's public fields (user tokens); `client_scope` is what a client may
    hold now (client tokens).
    """

    live: bool
    account: Account | None = None
    client_scope: str = ""


class RevocationStore(Protocol):
    """Where revocation state is read on every request and written on every revocation."""

    def stage(self, ref: TokenRef) -> None:
        """Ask for `ref`'s state to be read with the request's rate-limit round trip."""

    def state(self, ref: TokenRef) -> HolderState | None:
        """The token's state; None when its holder does not exist."""

    def session_live_until(self, user_id: int, session_id: str, expires_at: datetime) -> None:
        """A login or refresh: the session's tokens are live until `expires_at`."""

    def sessions_revoked(self, sessions: Iterable[tuple[int, str, datetime]]) -> None:
        """Revoked sessions, as (user id, session id, when its last token expires)."""

    def token_revoked(self, holder: str, jti: str, expires_at: datetime) -> None:
        """One token denied by `jti` until it would have expired anyway."""

    def holders_changed(self, holders: Iterable[str]) -> None:
        """A user's or client's state changed: forget what is cached of it."""

    def ping(self) -> None:
        """Raise if the store cannot answer now."""


def _account(row: Any) -> Account:
    return Account(
        row.id,
        row.username,
        row.email,
        row.role,
        row.is_active,
        row.created_at,
        row.email_verified_at is not None,
    )


_ACCOUNT_COLUMNS = (
    User.id,
    User.username,
    User.email,
    User.role,
    User.is_active,
    User.created_at,
    User.email_verified_at,
)


class SqlRevocationStore:
    """The database alone: one query per request joins the holder with session and denylist."""

    def stage(self, ref: TokenRef) -> None:
        """Nothing to read ahead: the query is the round trip."""

    def state(self, ref: TokenRef) -> HolderState | None:
        if isinstance(ref, ClientTokenRef):
            return self._client_state(ref)
        session_live = exists().where(
            AuthSession.id == ref.session_id,
            AuthSession.user_id == User.id,
            AuthSession.revoked_at.is_(None),
        )
        denied = exists().where(RevokedToken.jti == ref.jti)
        row = db.session.execute(
            select(*_ACCOUNT_COLUMNS, session_live.label("live"), denied.label("denied")).where(
                User.id == ref.user_id
            )
        ).first()
        if row is None:
            return None
        account = _account(row)
        return HolderState(account.is_active and row.live and not row.denied, account=account)

    def _client_state(self, ref: ClientTokenRef) -> HolderState | None:
        row = db.session.execute(
            select(
                OAuthClient.credential_id,
                OAuthClient.is_active,
                OAuthClient.scope,
                exists().where(RevokedToken.jti == ref.jti).label("denied"),
            ).where(OAuthClient.client_id == ref.client_id)
        ).first()
        if row is None:
            return None
        live = row.is_active and row.credential_id == ref.credential_id and not row.denied
        return HolderState(live, client_scope=row.scope)

    def session_live_until(self, user_id: int, session_id: str, expires_at: datetime) -> None:
        """Nothing to mirror: the row is the state."""

    def sessions_revoked(self, sessions: Iterable[tuple[int, str, datetime]]) -> None:
        """Nothing to mirror: the rows are the state."""

    def token_revoked(self, holder: str, jti: str, expires_at: datetime) -> None:
        """Nothing to mirror: the row is the state."""

    def holders_changed(self, holders: Iterable[str]) -> None:
        """Nothing cached: the rows are the state."""

    def ping(self) -> None:
        """The database is checked on its own by /readyz."""


def _key(holder: str, suffix: str) -> str:
    return f"{_PREFIX}{{{holder}}}:{suffix}"


def _keys(ref: TokenRef) -> list[str]:
    """The keys one request reads for `ref`: holder state first (the sentinel), then the rest."""
    if isinstance(ref, ClientTokenRef):
        return [_key(ref.holder, "client"), _key(ref.holder, "jti:" + ref.jti)]
    return [
        _key(ref.holder, "account"),
        _key(ref.holder, "sid:" + ref.session_id),
        _key(ref.holder, "jti:" + ref.jti),
    ]


def _seconds_until(expires_at: datetime) -> int:
    """A key's lifetime: until the tokens it speaks for expire, plus the verifiers' leeway."""
    leeway = current_app.config["JWT_LEEWAY_SECONDS"]
    return epoch_seconds(expires_at) - epoch_seconds(utcnow()) + leeway


def earliest_accepted_expiry(now: datetime) -> datetime:
    """The earliest `exp` a JWT verified at `now` may carry: verifiers accept a token until
    JWT_LEEWAY_SECONDS after its expiry, so state that guards one lives that much longer."""
    return now - timedelta(seconds=current_app.config["JWT_LEEWAY_SECONDS"])


class RedisRevocationStore:
    """A Redis mirror of the revocation state, shared by every worker and host."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._mark_live = client.register_script(_MARK_LIVE_UNLESS_REVOKED)

    def stage(self, ref: TokenRef) -> None:
        read = PiggybackRead(_keys(ref))
        request_piggyback(read)
        request.environ[_STAGED] = (ref, read)

    def state(self, ref: TokenRef) -> HolderState | None:
        holder_state, *token_keys = self._read(ref)
        if holder_state is None:
            self._rebuild(ref)
            holder_state, *token_keys = self.client.mget(_keys(ref))
        if holder_state is None or holder_state == _NO_ROW:
            return None
        if isinstance(ref, ClientTokenRef):
            credential_id, active, scope = holder_state.split(" ", 2)
            (jti_marker,) = token_keys
            live = active == "1" and credential_id == ref.credential_id and jti_marker is None
            return HolderState(live, client_scope=scope)
        sid_marker, jti_marker = token_keys
        account = _decode_account(holder_state)
        live = account.is_active and sid_marker == _LIVE and jti_marker is None
        return HolderState(live, account=account)

    def _read(self, ref: TokenRef) -> list[str | None]:
        """The values the rate-limit round trip already read for `ref`, else one MGET."""
        staged = request.environ.get(_STAGED) if has_request_context() else None
        if staged is not None and staged[0] == ref and staged[1].values is not None:
            return staged[1].values
        values = self.client.mget(_keys(ref))
        report_recovery("redis")
        return values

    def _rebuild(self, ref: TokenRef) -> None:
        """Re-create a holder's mirror from the database, its state key (the sentinel) last."""
        if isinstance(ref, ClientTokenRef):
            self._rebuild_client(ref.client_id)
        else:
            self._rebuild_user(ref.user_id)

    def _rebuild_user(self, user_id: int) -> None:
        holder = user_holder(user_id)
        row = db.session.execute(select(*_ACCOUNT_COLUMNS).where(User.id == user_id)).first()
        sessions = db.session.execute(
            select(
                AuthSession.id, AuthSession.refresh_expires_at, AuthSession.access_expires_at
            ).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        ).all()
        for session_id, refresh_expires_at, access_expires_at in sessions:
            self.session_live_until(user_id, session_id, max(refresh_expires_at, access_expires_at))
        pipe = self.client.pipeline(transaction=False)
        self._mark_denied_tokens(pipe, holder)
        state = _NO_ROW if row is None else _encode_account(_account(row))
        pipe.set(_key(holder, "account"), state, ex=HOLDER_STATE_SECONDS)
        pipe.execute()

    def _rebuild_client(self, client_id: str) -> None:
        holder = client_holder(client_id)
        row = db.session.execute(
            select(OAuthClient.credential_id, OAuthClient.is_active, OAuthClient.scope).where(
                OAuthClient.client_id == client_id
            )
        ).first()
        pipe = self.client.pipeline(transaction=False)
        self._mark_denied_tokens(pipe, holder)
        state = _NO_ROW if row is None else f"{row[0]} {int(row[1])} {row[2]}"
        pipe.set(_key(holder, "client"), state, ex=HOLDER_STATE_SECONDS)
        pipe.execute()

    def _mark_denied_tokens(self, pipe: Any, holder: str) -> None:
        """Queue a key per denied token of the holder that a verifier would still accept
        (until its expiry plus the leeway).

        Rows written before tokens recorded their holder (`holder` NULL) are included for
        every holder: they expire within a token lifetime of the upgrade.
        """
        denied = db.session.execute(
            select(RevokedToken.jti, RevokedToken.expires_at).where(
                or_(RevokedToken.holder == holder, RevokedToken.holder.is_(None)),
                RevokedToken.expires_at > earliest_accepted_expiry(utcnow()),
            )
        ).all()
        for jti, expires_at in denied:
            self._set(pipe, _key(holder, "jti:" + jti), _LIVE, expires_at)

    def session_live_until(self, user_id: int, session_id: str, expires_at: datetime) -> None:
        seconds = _seconds_until(expires_at)
        if seconds > 0:
            key = _key(user_holder(user_id), "sid:" + session_id)
            self._mark_live([key], [_REVOKED, _LIVE, seconds])

    def sessions_revoked(self, sessions: Iterable[tuple[int, str, datetime]]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for user_id, session_id, expires_at in sessions:
            self._set(pipe, _key(user_holder(user_id), "sid:" + session_id), _REVOKED, expires_at)
        pipe.execute()

    def token_revoked(self, holder: str, jti: str, expires_at: datetime) -> None:
        pipe = self.client.pipeline(transaction=False)
        self._set(pipe, _key(holder, "jti:" + jti), _LIVE, expires_at)
        pipe.execute()

    def holders_changed(self, holders: Iterable[str]) -> None:
        keys = [
            _key(holder, "client" if holder.startswith("c:") else "account") for holder in holders
        ]
        if keys:
            self.client.delete(*keys)

    def ping(self) -> None:
        self.client.ping()

    @staticmethod
    def _set(pipe: Any, key: str, value: str, expires_at: datetime) -> None:
        """Queue a key that lives exactly as long as the tokens it speaks for."""
        seconds = _seconds_until(expires_at)
        if seconds > 0:
            pipe.set(key, value, ex=seconds)


def _encode_account(account: Account) -> str:
    return json.dumps(
        [
            account.id,
            account.username,
            account.email,
            account.role,
            account.is_active,
            account.created_at.isoformat(),
            account.email_verified,
        ],
        separators=(",", ":"),
    )


def _decode_account(text: str) -> Account:
    # An entry cached before `email_verified` existed has six members; every account was
    # unverified then (migration 0005 adds the column empty).
    user_id, username, email, role, active, created_at, *verified = json.loads(text)
    return Account(
        user_id,
        username,
        email,
        role,
        active,
        datetime.fromisoformat(created_at),
        bool(verified and verified[0]),
    )


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


def revoke_sessions(*conditions: ColumnElement[bool]) -> int:
    """Revoke every live session matching `conditions`; the caller commits.

    The mirror is written before the caller's commit: if it fails, the database
    change rolls back and the caller sees the error, so nothing is half-revoked.
    """
    revoked = db.session.execute(
        update(AuthSession)
        .where(AuthSession.revoked_at.is_(None), *conditions)
        .values(revoked_at=utcnow())
        .returning(
            AuthSession.user_id,
            AuthSession.id,
            AuthSession.refresh_expires_at,
            AuthSession.access_expires_at,
        )
        .execution_options(synchronize_session=False)
    ).all()
    revocation_store().sessions_revoked(
        (user_id, session_id, max(refresh, access))
        for user_id, session_id, refresh, access in revoked
    )
    return len(revoked)


def revoke_token(holder: str, jti: str, expires_at: datetime) -> None:
    """Deny one token by `jti` until it would have expired anyway; the caller commits."""
    revocation_store().token_revoked(holder, jti, expires_at)
    if db.session.get(RevokedToken, jti) is None:
        db.session.add(RevokedToken(jti=jti, holder=holder, expires_at=expires_at))
