"""Database tables as typed SQLAlchemy 2 models."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from typing import ClassVar

from sqlalchemy import (
    DateTime,
    Engine,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry, relationship

from myapi.clock import utcnow

#: The longest email address a column stores: RFC 5321's 256-octet path less its "<" and ">".
EMAIL_LENGTH = 254


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on PostgreSQL and on SQLite (which drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@event.listens_for(Engine, "connect")
def _enforce_sqlite_foreign_keys(dbapi_connection: object, _record: object) -> None:
    """SQLite ignores foreign keys (and so ON DELETE CASCADE) unless asked, per connection."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


class Base(DeclarativeBase):
    registry = registry(type_annotation_map={datetime: UTCDateTime})
    # Named constraints, so migrations can alter them on PostgreSQL and SQLite alike.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class User(Base):
    __tablename__ = "users"
    # Never reuse a deleted user's id on SQLite: old tokens name users by id.
    __table_args__: ClassVar[dict[str, bool]] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique index makes them case-insensitively unique.
    username: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="user")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # When the owner proved they receive mail at `email` (the link sent at registration).
    email_verified_at: Mapped[datetime | None]

    sessions: Mapped[list[AuthSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    notes: Mapped[list[Note]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )
    personal_tokens: Mapped[list[PersonalAccessToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None


class AuthSession(Base):
    """One login: a family of rotating refresh tokens and the access tokens they mint.

    Only identifiers and timestamps of the current pair are kept (never a token),
    which is enough to re-sign that exact pair for a retry inside the grace window.
    """

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")

    refresh_jti: Mapped[str] = mapped_column(String(36))
    access_jti: Mapped[str] = mapped_column(String(36))
    pair_issued_at: Mapped[datetime]
    access_expires_at: Mapped[datetime]
    refresh_expires_at: Mapped[datetime] = mapped_column(index=True)
    previous_refresh_jti: Mapped[str | None] = mapped_column(String(36))
    rotated_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # Set for a grant to a third-party app (authorization code flow): its tokens carry the
    # client id and act for the user within the consented scope. NULL for a password login.
    client_id: Mapped[str | None] = mapped_column(
        ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), index=True
    )

    user: Mapped[User] = relationship(back_populates="sessions")


class RevokedToken(Base):
    """A single revoked token, by `jti`; the row can go once the token has expired.

    `holder` (`u:<user id>` or `c:<client id>`) lets the Redis mirror of one holder be
    rebuilt from its own rows; it is NULL only on rows written before it existed.
    """

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(36), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(72), index=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Note(Base):
    __tablename__ = "notes"
    __table_args__ = (
        Index("ix_notes_owner_id_id", "owner_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    owner: Mapped[User] = relationship(back_populates="notes")


#: Every client id `clients.create_client` makes; anything else names no client.
CLIENT_ID_FORMAT = re.compile(r"client_[0-9a-f]{24}")


class OAuthClient(Base):
    """An application: a service with its own tokens (client credentials grant), a
    third-party app acting for users (authorization code grant), or both.

    Only a hash of the secret is kept; a public client has none (`secret_hash` is empty and
    matches nothing). `credential_id` names the current secret and every token issued under
    it carries it as `sid`: rotating the secret ends them.
    """

    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(128))
    credential_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    # Space-separated scopes the client may ask for, and the `aud` of its tokens.
    scope: Mapped[str] = mapped_column(String(255))
    audience: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    secret_rotated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "confidential" (has a secret) or "public" (a native or browser app: PKCE is its proof).
    client_type: Mapped[str] = mapped_column(String(12), default="confidential")
    # Space-separated grant types, and the registered redirect URIs, one per line.
    grant_types: Mapped[str] = mapped_column(String(64), default="client_credentials")
    redirect_uris: Mapped[str] = mapped_column(Text, default="")


class AuthorizationCode(Base):
    """An authorization code, stored as its SHA-256 only, single-use and short-lived.

    Bound to everything the token request must repeat or prove: client, redirect URI,
    PKCE challenge, and what the user consented to. `session_id` names the grant its
    exchange opened, so a replay of the code can end every token issued from it.
    """

    __tablename__ = "oauth_authorization_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(255))
    nonce: Mapped[str | None] = mapped_column(String(255))
    code_challenge: Mapped[str] = mapped_column(String(128))
    auth_time: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
    session_id: Mapped[str | None] = mapped_column(String(32))


class Consent(Base):
    """What a user let an app do: remembered per user and client, as the scopes granted."""

    __tablename__ = "oauth_consents"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), primary_key=True, index=True
    )
    scope: Mapped[str] = mapped_column(String(255))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignIn(Base):
    """A sign-in at the authorization server's own pages (a short-lived cookie).

    Only the SHA-256 of the cookie's value is kept. Logging out everywhere, a password
    change and disabling the account revoke it, like a session.
    """

    __tablename__ = "oauth_sign_ins"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    auth_time: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]


class SigningKey(Base):
    """An asymmetric token-signing key: `next` (published), `current`, `previous`, `retired`.

    The private part is stored encrypted with SIGNING_KEY_ENCRYPTION_KEYS; the public
    part, as a JWK, is what `/.well-known/jwks.json` publishes while the key is not retired.
    """

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(10), index=True)
    public_jwk: Mapped[str] = mapped_column(Text)
    encrypted_private_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]
    deactivated_at: Mapped[datetime | None]
    # A previous key stays published until every token it signed has expired.
    publish_until: Mapped[datetime | None]


class PersonalAccessToken(Base):
    """A long-lived token a user makes for scripts; only the SHA-256 of the token is kept."""

    __tablename__ = "personal_access_tokens"
    __table_args__: ClassVar[dict[str, bool]] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="personal_tokens")


class AccountToken(Base):
    """A single-use token sent by email (password reset, email verification); only its
    SHA-256 is kept.

    A token is used by deleting its row in a conditional DELETE, so of two requests that
    present it at once exactly one finds it; a used, superseded or expired token has no row
    (or an expired one) and is refused alike.
    """

    __tablename__ = "account_tokens"
    __table_args__ = (Index("ix_account_tokens_user_id_purpose", "user_id", "purpose"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(32))
    # The address a verification link proves (the account's, when the link was made).
    email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class PasswordResetRequest(Base):
    """An address someone asked a reset link for, whether or not an account has it.

    The request only writes this row, the same for every address, so its answer takes the
    same time either way; the sender resolves it after the answer (`services.recovery`)
    and deletes it, leaving a token and an outbox message only for an active account.
    """

    __tablename__ = "password_reset_requests"
    __table_args__: ClassVar[dict[str, bool]] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """An email waiting to be sent, written in the same transaction as what it announces.

    `context` (JSON) holds what the templates need, including a link with a token: it is
    erased once the message is sent or given up, so a token's clear text lives only as long
    as its message is undelivered. `claimed_until` is a sender's lease: a message is sent by
    one sender at a time, and by another only if the first died before marking it.
    """

    __tablename__ = "mail_outbox"
    __table_args__: ClassVar[dict[str, bool]] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    template: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    context: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Past this moment the message is pointless (its link has expired) and is given up.
    expires_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    claimed_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    abandoned_at: Mapped[datetime | None]
