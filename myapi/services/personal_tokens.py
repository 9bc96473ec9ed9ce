"""Personal access tokens: make, list and revoke them, and note their use.

The token format and its lookup are in `security.personal_tokens`; this module owns the
changes. A token never holds more than the credential that made it, a user has at most
`MAX_LIVE_TOKENS` live ones, and `last_used_at` is written at most once a minute.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Response
from sqlalchemy import ColumnElement, func, insert, literal, select, update
from sqlalchemy.exc import SQLAlchemyError

from myapi.clock import utcnow
from myapi.extensions import db
from myapi.logs import report_outage
from myapi.models import PersonalAccessToken, User
from myapi.security.opaque_tokens import new_opaque_token, opaque_token_hash
from myapi.security.personal_tokens import PAT_PREFIX, take_noted_use
from myapi.security.scopes import format_scope, parse_scope
from myapi.services.transactions import unit_of_work

DEFAULT_DAYS = 30
# Enough for every script a person runs; a bound keeps a stolen fresh login from minting
# an unbounded number of credentials, and keeps the listing one short page.
MAX_LIVE_TOKENS = 50
# `last_used_at` is written at most once a minute per token, so an ordinary request by a
# busy script reads only: the listing shows the last use to the minute.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ScopeBeyondGrant(Exception):
    """The requested scopes exceed what the presenting credential may grant."""

    def __init__(self, excess: set[str]) -> None:
        super().__init__()
        self.excess = excess


class TooManyTokens(Exception):
    """The owner already has MAX_LIVE_TOKENS live tokens."""


def live_at(now: datetime) -> ColumnElement[bool]:
    """Neither revoked nor expired at `now`: what counts toward the cap, what is listed,
    and what `flask tokens prune` keeps."""
    return PersonalAccessToken.revoked_at.is_(None) & (PersonalAccessToken.expires_at > now)


def issue(
    user_id: int, name: str, scope: str, expires_in_days: int, *, within: frozenset[str]
) -> tuple[PersonalAccessToken, str]:
    """Make a token for the user; returns its row and the token, which is never stored.

    `within` is the presenting credential's effective scope: a PAT never holds more than
    the token that made it, so a narrowed token cannot mint a wider credential.
    """
    requested = parse_scope(scope)
    excess = requested - within
    if excess:
        raise ScopeBeyondGrant(set(excess))
    token = new_opaque_token(PAT_PREFIX)
    now = utcnow().replace(microsecond=0)
    with unit_of_work() as work:
        record = _insert_within_cap(
            user_id=user_id,
            name=name,
            token_hash=opaque_token_hash(token),
            scope=format_scope(requested),
            created_at=now,
            expires_at=now + timedelta(days=expires_in_days),
        )
        work.audit(
            "personal_token_created",
            user_id=user_id,
            token_id=record.id,
            scope=record.scope,
            expires_at=record.expires_at.isoformat(),
        )
    return record, token


def _insert_within_cap(**row: Any) -> PersonalAccessToken:
    """Insert the token only if its owner has fewer than MAX_LIVE_TOKENS live ones, in one
    statement: the count and the insert are one atomic step.

    SQLite serialises writers, and an INSERT takes the write lock before its SELECT reads,
    so the count is always of committed rows no other writer can add to. PostgreSQL would
    let two concurrent statements count the same rows, so the owner's row is locked first:
    the second statement waits for the first to commit, then counts its token too.
    """
    user_id = row["user_id"]
    db.session.execute(select(User.id).where(User.id == user_id).with_for_update())
    live = select(func.count()).where(PersonalAccessToken.user_id == user_id, live_at(utcnow()))
    columns = list(row)
    values = select(*(literal(value) for value in row.values())).where(
        live.scalar_subquery() < MAX_LIVE_TOKENS
    )
    inserted = db.session.scalar(
        insert(PersonalAccessToken).from_select(columns, values).returning(PersonalAccessToken.id)
    )
    if inserted is None:
        raise TooManyTokens
    return db.session.get_one(PersonalAccessToken, inserted)


def live_tokens(user_id: int) -> list[PersonalAccessToken]:
    """The user's tokens that still work, newest first."""
    return list(
        db.session.scalars(
            select(PersonalAccessToken)
            .where(PersonalAccessToken.user_id == user_id, live_at(utcnow()))
            .order_by(PersonalAccessToken.created_at.desc(), PersonalAccessToken.id.desc())
        )
    )


def revoke(token_id: int, user_id: int, *, reason: str) -> bool:
    """Revoke one of the user's tokens by id; False when there is no such unrevoked token."""
    with unit_of_work() as work:
        revoked = revoke_personal_tokens_where(
            PersonalAccessToken.id == token_id, PersonalAccessToken.user_id == user_id
        )
        for revoked_id in revoked:
            work.audit(
                "personal_token_revoked", user_id=user_id, token_id=revoked_id, reason=reason
            )
    return bool(revoked)


def revoke_personal_tokens_where(*conditions: ColumnElement[bool]) -> list[int]:
    """Revoke the unrevoked tokens matching `conditions`, inside the caller's unit of work."""
    return list(
        db.session.scalars(
            update(PersonalAccessToken)
            .where(PersonalAccessToken.revoked_at.is_(None), *conditions)
            .values(revoked_at=utcnow())
            .returning(PersonalAccessToken.id)
            .execution_options(synchronize_session=False)
        )
    )


def record_use(response: Response) -> Response:
    """After a request a token authenticated: its `last_used_at`, at most once a minute.

    Its own unit of work, after the view's, so a view never commits a use by accident or
    loses one to a rollback. The answer is already decided: a lost minute of "last used"
    during a database outage must not turn it into a 500.
    """
    used = take_noted_use()
    if used is None:
        return response
    token_id, last_used_at = used
    now = utcnow()
    if last_used_at is not None and now - last_used_at < LAST_USED_RESOLUTION:
        return response
    db.session.rollback()
    try:
        with unit_of_work():
            db.session.execute(
                update(PersonalAccessToken)
                .where(PersonalAccessToken.id == token_id)
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )
    except SQLAlchemyError as error:
        report_outage("database", error)
    return response
