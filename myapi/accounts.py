"""Account changes shared by the API and the CLI, so both apply the same rules and revocations."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from myapi.extensions import db
from myapi.logs import audit
from myapi.models import AuthSession, User
from myapi.security.passwords import hash_password
from myapi.security.personal_tokens import revoke_user_tokens
from myapi.security.revocation import revocation_store, revoke_sessions, user_holder


class AccountConflict(Exception):
    """The username or email already belongs to another account."""


def normalize_identifier(value: str) -> str:
    return value.strip().lower()


def find_user(identifier: str) -> User | None:
    """By username, or by email when the identifier contains '@'.

    No stored name contains a NUL, and PostgreSQL refuses one in a query: answer None.
    """
    key = normalize_identifier(identifier)
    if "\x00" in key:
        return None
    column = User.email if "@" in key else User.username
    return db.session.scalar(select(User).where(column == key))


def create_user(username: str, email: str, password: str, role: str = "user") -> User:
    """Create an account; raises AccountConflict, also when a concurrent request won the race."""
    user = User(
        username=normalize_identifier(username),
        email=normalize_identifier(email),
        password_hash=hash_password(password),
        role=role,
    )
    taken = db.session.scalar(
        select(func.count())
        .select_from(User)
        .where((User.username == user.username) | (User.email == user.email))
    )
    if taken:
        raise AccountConflict
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise AccountConflict from None
    audit("user_registered", user_id=user.id, username=user.username)
    return user


def set_password(user: User, password: str, *, keep_session: str | None = None) -> int:
    """Change the password and revoke every session except `keep_session`; returns how many.

    Every personal access token goes too: a password change is the answer to a suspected
    compromise, and a PAT made by whoever had the password must not outlive it.
    """
    user.password_hash = hash_password(password)
    conditions = [AuthSession.user_id == user.id]
    if keep_session is not None:
        conditions.append(AuthSession.id != keep_session)
    revoked = revoke_sessions(*conditions)
    tokens = revoke_user_tokens(user.id)
    db.session.commit()
    audit(
        "password_changed",
        user_id=user.id,
        sessions_revoked=revoked,
        personal_tokens_revoked=tokens,
    )
    return revoked


def _commit_user_state(user_id: int) -> None:
    """Commit a role or status change, dropping the mirrored state before and after.

    Dropping it again after the commit means a request that re-read the old row
    in between cannot leave the old role cached.
    """
    holders = [user_holder(user_id)]
    revocation_store().holders_changed(holders)
    db.session.commit()
    revocation_store().holders_changed(holders)


def set_role(user: User, role: str) -> None:
    if user.role == role:
        return
    previous, user.role = user.role, role
    _commit_user_state(user.id)
    audit("role_changed", user_id=user.id, previous=previous, role=role)


def set_active(user: User, active: bool) -> None:
    """Disabling an account revokes all its sessions and personal tokens; enabling restores none.

    (A disabled owner's tokens are refused by the status check alone; revoking them too
    keeps them dead if the account is enabled again, like its sessions.)
    """
    if user.is_active == active:
        return
    user.is_active = active
    revoked = tokens = 0
    if not active:
        revoked = revoke_sessions(AuthSession.user_id == user.id)
        tokens = revoke_user_tokens(user.id)
    _commit_user_state(user.id)
    audit(
        "user_enabled" if active else "user_disabled",
        user_id=user.id,
        sessions_revoked=revoked,
        personal_tokens_revoked=tokens,
    )


def revoke_all_sessions(user: User, *, event: str = "logout_all") -> int:
    """Every session and every personal access token of the user: "log me out everywhere"."""
    revoked = revoke_sessions(AuthSession.user_id == user.id)
    tokens = revoke_user_tokens(user.id)
    db.session.commit()
    audit(event, user_id=user.id, sessions_revoked=revoked, personal_tokens_revoked=tokens)
    return revoked


def delete_user(user: User) -> None:
    user_id = user.id
    db.session.delete(user)
    _commit_user_state(user_id)
    audit("user_deleted", user_id=user_id)
