"""Accounts: registration, passwords, roles, disabling and deletion, for the API and the CLI.

Every change that weakens a credential ends what it should in the same unit of work: a
password change every other session and every personal access token, disabling the
account all of them. Cached account state in the Redis mirror is dropped before the
commit and again after it, so no request can leave the old role or status cached.
"""

from __future__ import annotations

import unicodedata

from flask import current_app
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from myapi.clock import utcnow
from myapi.extensions import db
from myapi.models import (
    EMAIL_LENGTH,
    AccountToken,
    AuthSession,
    PersonalAccessToken,
    SignIn,
    User,
)
from myapi.security.passwords import hash_password, needs_rehash, verify_password
from myapi.security.revocation import revoke_sessions, user_holder
from myapi.services.outbox import queue_message
from myapi.services.personal_tokens import revoke_personal_tokens_where
from myapi.services.transactions import UnitOfWork, holder_changed, unit_of_work
from myapi.services.verification import queue_verification

#: The longest username or email address an account can have (usernames are shorter).
MAX_IDENTIFIER_LENGTH = EMAIL_LENGTH
#: The purpose of an `AccountToken` that resets a password (myapi/services/recovery.py).
PASSWORD_RESET = "password_reset"


class AccountConflict(Exception):
    """The username or email already belongs to another account; `fields` names which
    (empty when a concurrent registration won the race and the database refused)."""

    def __init__(self, fields: tuple[str, ...] = ()) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


class WrongPassword(Exception):
    """The current password given to confirm a change is not the account's."""


def normalize_identifier(value: str) -> str:
    """The one form a username or email is stored, compared and looked up in.

    NFKC folds compatibility look-alikes (fullwidth letters, the Kelvin sign) into the
    characters they stand for, and case folding makes the comparison case-insensitive;
    folding can leave text that is not NFKC (it may decompose), hence NFKC once more.
    Registration, login, the per-account rate limit and the CLI all go through here.
    """
    folded = unicodedata.normalize("NFKC", value).strip().casefold()
    return unicodedata.normalize("NFKC", folded)


def find_user(identifier: str) -> User | None:
    """By username, or by email when the identifier contains '@'.

    No stored name contains a NUL, and PostgreSQL refuses one in a query: answer None.
    """
    key = normalize_identifier(identifier)
    if "\x00" in key:
        return None
    column = User.email if "@" in key else User.username
    return db.session.scalar(select(User).where(column == key))


def attempt_key(identifier: str) -> str | None:
    """Whose sign-in attempts `identifier` counts against, for the per-account limits.

    An existing account is counted by id, so alternating its username and its email does
    not double the attempts allowed; an unknown name by its normalized form. A name longer
    than any account's names none (None: the caller counts the request by its address).
    """
    if len(identifier) > MAX_IDENTIFIER_LENGTH:
        return None
    user = find_user(identifier)
    if user is None:
        return "account:" + normalize_identifier(identifier)
    return f"user:{user.id}"


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def all_users() -> Select[tuple[User]]:
    """Every account, by id (for a paginated listing)."""
    return select(User).order_by(User.id)


def list_users() -> list[User]:
    return list(db.session.scalars(all_users()))


def live_session_count(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))
    )


def register(
    username: str, email: str, password: str, role: str = "user", *, email_verified: bool = False
) -> User:
    """Create an account; AccountConflict when the name or email is taken (also in a race).

    A link to verify the email address is queued with it, unless `email_verified` (an
    operator vouching for the address).
    """
    password_hash = hash_password(password)
    user = User(
        username=normalize_identifier(username),
        email=normalize_identifier(email),
        password_hash=password_hash,
        role=role,
        email_verified_at=utcnow() if email_verified else None,
    )
    holders = db.session.execute(
        select(User.username, User.email).where(
            (User.username == user.username) | (User.email == user.email)
        )
    ).all()
    # Naming which one is taken tells nothing new: either can be tried alone with a fresh
    # value for the other.
    taken = tuple(
        field
        for field, value in (("username", user.username), ("email", user.email))
        if any(getattr(holder, field) == value for holder in holders)
    )
    if taken:
        raise AccountConflict(taken)
    try:
        with unit_of_work() as work:
            db.session.add(user)
            db.session.flush()
            if not email_verified:
                queue_verification(work, user)
            work.audit("user_registered", user_id=user.id, username=user.username)
    except IntegrityError:
        raise AccountConflict from None
    return user


def check_password(identifier: str, password: str) -> tuple[User | None, str | None]:
    """The account a login names and why it may not log in (None when it may); changes nothing.

    The same time is spent whatever the outcome (a dummy hash for an unknown name).
    """
    user = find_user(identifier)
    valid = verify_password(user.password_hash if user else None, password)
    if user is None:
        return None, "unknown_user"
    if not valid:
        return user, "bad_password"
    if not user.is_active:
        return user, "disabled"
    return user, None


def upgraded_hash(user: User, password: str) -> str | None:
    """A new hash when the stored one was made with weaker parameters than configured."""
    return hash_password(password) if needs_rehash(user.password_hash) else None


def _end_credentials(user: User, *, keep_session: str | None = None) -> dict:
    """Revoke the user's sessions (but `keep_session`) and personal tokens; counts for the audit."""
    conditions = [AuthSession.user_id == user.id]
    if keep_session is not None:
        conditions.append(AuthSession.id != keep_session)
    sessions = revoke_sessions(*conditions)
    tokens = revoke_personal_tokens_where(PersonalAccessToken.user_id == user.id)
    # The sign-in at the authorization server's pages ends too (apps' grants are sessions).
    db.session.execute(
        update(SignIn)
        .where(SignIn.user_id == user.id, SignIn.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return {"sessions_revoked": sessions, "personal_tokens_revoked": len(tokens)}


def change_password(
    user: User, current_password: str, new_password: str, *, keep_session: str | None
) -> None:
    """The owner's change: WrongPassword unless `current_password` is right.

    Every other session and every personal access token ends with it: a password change
    is the answer to a suspected compromise.
    """
    if not verify_password(user.password_hash, current_password):
        with unit_of_work() as work:
            work.audit("password_change_failed", user_id=user.id)
        raise WrongPassword
    set_password(user, new_password, keep_session=keep_session)


def set_password(user: User, password: str, *, keep_session: str | None = None) -> int:
    """Set the password and revoke every session but `keep_session`; returns how many."""
    password_hash = hash_password(password)
    with unit_of_work() as work:
        ended = replace_password(work, user, password_hash, keep_session=keep_session)
        work.audit("password_changed", user_id=user.id, **ended)
    return ended["sessions_revoked"]


def replace_password(
    work: UnitOfWork, user: User, password_hash: str, *, keep_session: str | None = None
) -> dict:
    """In the caller's unit of work: the new hash, every credential but `keep_session` ended,
    every outstanding password reset link void, and a notice to the account's address.

    The notice tells the owner at once if someone else changed the password.
    """
    user.password_hash = password_hash
    ended = _end_credentials(user, keep_session=keep_session)
    db.session.execute(
        delete(AccountToken).where(
            AccountToken.user_id == user.id, AccountToken.purpose == PASSWORD_RESET
        )
    )
    if current_app.config["ACCOUNT_EMAILS"]:
        changed_at = utcnow().isoformat(timespec="seconds")
        queue_message(
            work,
            "password_changed",
            user.email,
            {"username": user.username, "changed_at": changed_at},
        )
    return ended


def set_role(user: User, role: str) -> None:
    administer(user, role=role)


def set_active(user: User, active: bool) -> None:
    administer(user, active=active)


def administer(user: User, *, role: str | None = None, active: bool | None = None) -> None:
    """An administrator's change of role and active state, applied together or not at all.

    Disabling revokes every session and personal token; enabling restores none of them (a
    disabled owner's tokens are refused by the status check alone; revoking them too keeps
    them dead if the account is enabled again). A new role's scopes bite on the next request.
    """
    with unit_of_work() as work:
        if role is not None and role != user.role:
            previous, user.role = user.role, role
            work.audit("role_changed", user_id=user.id, previous=previous, role=role)
        if active is not None and active != user.is_active:
            user.is_active = active
            ended = {"sessions_revoked": 0, "personal_tokens_revoked": 0}
            if not active:
                ended = _end_credentials(user)
            event = "user_enabled" if active else "user_disabled"
            work.audit(event, user_id=user.id, **ended)
        if work.events:
            holder_changed(work, user_holder(user.id))


def revoke_all_sessions(user: User, *, event: str = "logout_all") -> int:
    """Every session and every personal access token of the user: "log me out everywhere"."""
    with unit_of_work() as work:
        ended = _end_credentials(user)
        work.audit(event, user_id=user.id, **ended)
    return ended["sessions_revoked"]


def delete_user(user: User) -> None:
    user_id = user.id
    with unit_of_work() as work:
        db.session.delete(user)
        holder_changed(work, user_holder(user_id))
        work.audit("user_deleted", user_id=user_id)
