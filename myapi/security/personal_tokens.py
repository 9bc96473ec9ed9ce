"""Personal access tokens (PATs): the format, and the lookup that authenticates one.

A PAT is `myapi_pat_` and 32 random bytes (`opaque_tokens`), stored only as SHA-256. It is
no JWT and never passes through the JWT library: presented as `Authorization: Bearer`,
it is looked up by its hash together with its owner's public fields in one indexed query
(`look_up`), and `security.authentication` makes its principal. It is never fresh, so it
cannot do what needs a recent password login (changing the password, making PATs). Its
liveness is read from the database on every use, never from the Redis mirror, so a
revocation, expiry, disabling or demotion bites on the next request on every worker.
Making, listing and revoking them are units of work in `services.personal_tokens`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import request
from sqlalchemy import select

from myapi.clock import utcnow
from myapi.extensions import db
from myapi.models import PersonalAccessToken, User
from myapi.security.opaque_tokens import has_opaque_shape, opaque_token_hash
from myapi.security.principal import Account

PAT_PREFIX = "myapi_pat_"
_USED = "myapi.personal_token_used"


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
            User.email_verified_at,
        )
        .join(User, User.id == PersonalAccessToken.user_id)
        .where(PersonalAccessToken.token_hash == opaque_token_hash(token))
    ).first()
    if row is None:
        return None
    account = Account(
        row.user_id,
        row.username,
        row.email,
        row.role,
        row.is_active,
        row.user_created_at,
        row.email_verified_at is not None,
    )
    return FoundToken(
        row.id, row.scope, row.created_at, row.expires_at, row.last_used_at, row.revoked_at, account
    )


def note_use(found: FoundToken) -> None:
    """Remember that this request used the token (its last use is written after the view)."""
    request.environ[_USED] = (found.id, found.last_used_at)


def take_noted_use() -> tuple[int, datetime | None] | None:
    """The token this request used and its previous last use, once; None if none was used."""
    return request.environ.pop(_USED, None)
