"""Account changes shared by the API and the CLI, so both apply the same rules and revocations."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from myapi.extensions import db
from myapi.logs import audit
from myapi.models import AuthSession, User
from myapi.security.passwords import hash_password
from myapi.security.revocation import revocation_store, revoke_sessions


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
    """Change the password and revoke every session except `keep_session`; returns how many."""
    user.password_hash = hash_password(password)
    conditions = [AuthSession.user_id == user.id]
    if keep_session is not None:
        conditions.append(AuthSession.id != keep_session)
    revoked = revoke_sessions(*conditions)
    db.session.commit()
    audit("password_changed", user_id=user.id, sessions_revoked=revoked)
    return revoked


def _commit_user_state(user_id: int) -> None:
    """Commit a role or status change, dropping the mirrored state before and after.

    Dropping it again after the commit means a request that re-read the old row
    in between cannot leave the old role cached.
    """
    revocation_store().user_changed(user_id)
    db.session.commit()
    revocation_store().user_changed(user_id)


def set_role(user: User, role: str) -> None:
    if user.role == role:
        return
    previous, user.role = user.role, role
    _commit_user_state(user.id)
    audit("role_changed", user_id=user.id, previous=previous, role=role)


def set_active(user: User, active: bool) -> None:
    """Disabling an account revokes all its sessions at once; enabling restores none."""
    if user.is_active == active:
        return
    user.is_active = active
    revoked = 0 if active else revoke_sessions(AuthSession.user_id == user.id)
    _commit_user_state(user.id)
    audit("user_enabled" if active else "user_disabled", user_id=user.id, sessions_revoked=revoked)


def revoke_all_sessions(user: User, *, event: str = "logout_all") -> int:
    revoked = revoke_sessions(AuthSession.user_id == user.id)
    db.session.commit()
    audit(event, user_id=user.id, sessions_revoked=revoked)
    return revoked


def delete_user(user: User) -> None:
    user_id = user.id
    db.session.delete(user)
    _commit_user_state(user_id)
    audit("user_deleted", user_id=user_id)
