"""Personal access tokens (PATs): long-lived opaque credentials a user makes for scripts.

A PAT is `myapi_pat_` and 32 random bytes (`opaque_tokens`), stored only as SHA-256. It is
no JWT and never passes through the JWT library: presented as `Authorization: Bearer`,
it is looked up by its hash together with its owner's public fields in one indexed query
(`look_up`), and `security.authentication` makes its principal. It is never fresh, so it
cannot do what needs a recent password login (changing the password, making PATs). Its
liveness is read from the database on every use, never from the Redis mirror, so a
revocation, expiry, disabling or demotion bites on the next request on every worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Response, request
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from myapi.clock import utcnow
from myapi.extensions import db
from myapi.logs import audit, report_outage
from myapi.models import PersonalAccessToken, User
from myapi.security.opaque_tokens import (
    has_opaque_shape,
    new_opaque_token,
    opaque_token_hash,
)
from myapi.security.principal import Account
from myapi.security.scopes import format_scope, parse_scope

PAT_PREFIX = "myapi_pat_"
DEFAULT_DAYS = 30
# Enough for every script a person runs; a bound keeps a stolen fresh login from minting
# an unbounded number of credentials, and keeps the listing one short page.
MAX_LIVE_TOKENS = 50
# `last_used_at` is written at most once a minute per token, so an ordinary request by a
# busy script reads only: the listing shows the last use to the minute.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_USED = "myapi.personal_token_used"


class ScopeBeyondGrant(Exception):
    """The requested scopes exceed what the presenting credential may grant."""

    def __init__(self, excess: set[str]) -> None:
        super().__init__()
        self.excess = excess


class TooManyTokens(Exception):
    """The owner already has MAX_LIVE_TOKENS live tokens."""


def is_personal_token(token: str) -> bool:
    return token.startswith(PAT_PREFIX)


def token_id_of(row_id: int) -> str:
    """A personal token's id as principals and introspection show it (no JWT `jti` looks so)."""
    return f"pat-{row_id}"


def row_id_of(token_id: str) -> int:
    return int(token_id.removeprefix("pat-"))


@dataclass(frozen=True, slots=True)
class FoundToken:
    """A presented token's row, with its owner's public fields."""

    id: int
    scope: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    account: Account

    def refusal(self) -> str | None:
        """Why the token cannot be used now (for the audit log); None when it can."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= utcnow():
            return "expired"
        if not self.account.is_active:
            return "owner_disabled"
        return None


def look_up(token: str) -> FoundToken | None:
    """The presented token's row and owner, in one query; None if malformed or unknown.

    Columns rather than ORM rows: an ORM row would sit in the session's identity map and
    could hide a later change (last use, revocation) from the same session.
    """
    if not has_opaque_shape(token, PAT_PREFIX):
        return None
    row = db.session.execute(
        select(
            PersonalAccessToken.id,
            PersonalAccessToken.scope,
            PersonalAccessToken.created_at,
            PersonalAccessToken.expires_at,
            PersonalAccessToken.last_used_at,
            PersonalAccessToken.revoked_at,
            User.id.label("user_id"),
            User.username,
            User.email,
            User.role,
            User.is_active,
            User.created_at.label("user_created_at"),
        )
        .join(User, User.id == PersonalAccessToken.user_id)
        .where(PersonalAccessToken.token_hash == opaque_token_hash(token))
    ).first()
    if row is None:
        return None
    account = Account(
        row.user_id, row.username, row.email, row.role, row.is_active, row.user_created_at
    )
    return FoundToken(
        row.id, row.scope, row.created_at, row.expires_at, row.last_used_at, row.revoked_at, account
    )


def note_use(found: FoundToken) -> None:
    """Remember that this request used the token, for `record_use` after the view."""
    request.environ[_USED] = found


def record_use(response: Response) -> Response:
    """After the request: write `last_used_at`, at most once per LAST_USED_RESOLUTION.

    So an ordinary request by a busy script writes nothing; its own transaction, after
    the view's, so the view never commits a use by accident or loses one on rollback.
    """
    found: FoundToken | None = request.environ.pop(_USED, None)
    if found is None:
        return response
    now = utcnow()
    if found.last_used_at is not None and now - found.last_used_at < LAST_USED_RESOLUTION:
        return response
    db.session.rollback()
    try:
        db.session.execute(
            update(PersonalAccessToken)
            .where(PersonalAccessToken.id == found.id)
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    except SQLAlchemyError as error:
        # The answer is already decided; a lost "last used" minute must not turn it into a 500.
        db.session.rollback()
        report_outage("database", error)
    return response


def _live() -> ColumnElement[bool]:
    """Neither revoked nor expired."""
    return PersonalAccessToken.revoked_at.is_(None) & (PersonalAccessToken.expires_at > utcnow())


def issue_personal_token(
    user_id: int, name: str, scope: str, expires_in_days: int, *, within: frozenset[str]
) -> tuple[PersonalAccessToken, str]:
    """Create a token for the user; returns its row and the token, which is never stored.

    `within` is the presenting credential's effective scope: a PAT never holds more than
    the token that made it, so a narrowed token cannot mint a wider credential.
    """
    requested = parse_scope(scope)
    excess = requested - within
    if excess:
        raise ScopeBeyondGrant(set(excess))
    # Lock the owner's row while counting (PostgreSQL), so two concurrent requests cannot
    # both take the last place.
    db.session.execute(select(User.id).where(User.id == user_id).with_for_update())
    count = select(func.count()).where(PersonalAccessToken.user_id == user_id, _live())
    if db.session.scalar(count) >= MAX_LIVE_TOKENS:
        db.session.rollback()
        raise TooManyTokens
    token = new_opaque_token(PAT_PREFIX)
    now = utcnow().replace(microsecond=0)
    record = PersonalAccessToken(
        user_id=user_id,
        name=name,
        token_hash=opaque_token_hash(token),
        scope=format_scope(requested),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days),
    )
    db.session.add(record)
    db.session.commit()
    audit(
        "personal_token_created",
        user_id=user_id,
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


def revoke_owned_token(token_id: int, user_id: int, *, reason: str) -> bool:
    """Revoke one of the user's tokens by id; False when there is no such unrevoked token."""
    revoked = _revoke_where(
        PersonalAccessToken.id == token_id, PersonalAccessToken.user_id == user_id
    )
    db.session.commit()
    for revoked_id in revoked:
        audit("personal_token_revoked", user_id=user_id, token_id=revoked_id, reason=reason)
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
