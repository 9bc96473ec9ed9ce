"""Email verification: a link sent to the account's address proves its owner receives mail
there.

The token follows the password reset rules (32 random bytes with a prefix, stored only as
SHA-256, single use, spent by a conditional DELETE), lives `EMAIL_VERIFICATION_HOURS`, and
names the address it was sent to: it verifies that address only, so a link cannot verify an
address the account no longer has. A newer link voids the older ones.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from myapi.clock import as_utc, utcnow
from myapi.extensions import db
from myapi.models import AccountToken, User
from myapi.public_urls import front_end_link
from myapi.security.opaque_tokens import has_opaque_shape, new_opaque_token, opaque_token_hash
from myapi.security.revocation import user_holder
from myapi.services.outbox import queue_message
from myapi.services.transactions import UnitOfWork, holder_changed, unit_of_work

EMAIL_VERIFICATION = "email_verification"
#: A link that moves the account to the address it was sent to (`PUT /auth/email`).
EMAIL_CHANGE = "email_change"
VERIFY_TOKEN_PREFIX = "myapi_evt_"
#: The front-end page an emailed verification link opens.
VERIFY_PAGE = "verify-email"


class InvalidVerificationToken(Exception):
    """Unknown, used, superseded, expired or for another address: not said which."""


class AlreadyVerified(Exception):
    """The account's address is verified already; no link is sent."""


class SameAddress(Exception):
    """An email change to the address the account already has."""


class AddressTaken(Exception):
    """Another account has this address (under the normalisation rules)."""


def queue_verification(
    work: UnitOfWork, user: User, *, address: str | None = None, purpose: str = EMAIL_VERIFICATION
) -> None:
    """In the caller's unit of work: a new link to `address` (default: the account's),
    voiding older links of the same purpose.

    Nothing is queued while ACCOUNT_EMAILS is off.
    """
    if not current_app.config["ACCOUNT_EMAILS"]:
        return
    address = address or user.email
    token = new_opaque_token(VERIFY_TOKEN_PREFIX)
    now = utcnow()
    hours = current_app.config["EMAIL_VERIFICATION_HOURS"]
    expires_at = now + timedelta(hours=hours)
    db.session.execute(
        delete(AccountToken).where(AccountToken.user_id == user.id, AccountToken.purpose == purpose)
    )
    db.session.add(
        AccountToken(
            token_hash=opaque_token_hash(token),
            user_id=user.id,
            purpose=purpose,
            email=address,
            created_at=now,
            expires_at=expires_at,
        )
    )
    queue_message(
        work,
        "email_verification",
        address,
        {"username": user.username, "link": front_end_link(VERIFY_PAGE, token), "hours": hours},
        expires_at=expires_at,
    )


#: A login refused for an unverified address sends a new link at most this often.
REMINDER_INTERVAL = timedelta(minutes=10)


def remind(user: User) -> bool:
    """After a login refused for an unverified address (the right password, so the owner):
    a new link, unless one was made within REMINDER_INTERVAL; whether one was queued.

    The owner cannot log in to ask for one, so the refusal is the way to get it; repeated
    logins send at most one email per interval.
    """
    newest = db.session.scalar(
        select(func.max(AccountToken.created_at)).where(
            AccountToken.user_id == user.id, AccountToken.purpose == EMAIL_VERIFICATION
        )
    )
    recent = newest is not None and as_utc(newest) > utcnow() - REMINDER_INTERVAL
    with unit_of_work() as work:
        if not recent:
            queue_verification(work, user)
        work.audit("login_refused_unverified", user_id=user.id, link_sent=not recent)
    return not recent


def resend_verification(user: User) -> None:
    """A new verification link for the owner; AlreadyVerified if there is nothing to verify."""
    if user.email_verified:
        raise AlreadyVerified
    with unit_of_work() as work:
        queue_verification(work, user)
        work.audit("email_verification_sent", user_id=user.id)


def request_email_change(user: User, address: str) -> None:
    """Send a link to `address` (normalised) that moves the account there once followed,
    and a notice to the current address; nothing changes until the link is followed.

    SameAddress or AddressTaken when there is nothing to change or the address is another
    account's (checked again when the link is followed: it may be taken in between).
    """
    if address == user.email:
        raise SameAddress
    if _taken_by_another(address, user.id):
        raise AddressTaken
    with unit_of_work() as work:
        queue_verification(work, user, address=address, purpose=EMAIL_CHANGE)
        queue_message(
            work,
            "email_change_requested",
            user.email,
            {"username": user.username, "new_email": address},
        )
        work.audit("email_change_requested", user_id=user.id)


def _taken_by_another(address: str, user_id: int) -> bool:
    return (
        db.session.scalar(
            select(func.count()).select_from(User).where(User.email == address, User.id != user_id)
        )
        > 0
    )


def verify_email(token: str) -> None:
    """Verify the address the token was sent to: the account's own, or the new one an email
    change asked for (the account moves to it now). AddressTaken if another account has it.
    """
    if not has_opaque_shape(token, VERIFY_TOKEN_PREFIX):
        raise InvalidVerificationToken
    live = (
        AccountToken.token_hash == opaque_token_hash(token),
        AccountToken.purpose.in_((EMAIL_VERIFICATION, EMAIL_CHANGE)),
        AccountToken.expires_at > utcnow(),
    )
    try:
        with unit_of_work() as work:
            found = db.session.execute(
                select(AccountToken.user_id, AccountToken.email, AccountToken.purpose).where(*live)
            )
            row = found.first()
            if row is None or db.session.execute(delete(AccountToken).where(*live)).rowcount != 1:
                raise InvalidVerificationToken
            user = db.session.get(User, row.user_id)
            if user is None:
                raise InvalidVerificationToken
            if row.purpose == EMAIL_CHANGE:
                _move_to(work, user, row.email)
            elif user.email != row.email:
                raise InvalidVerificationToken
            _mark_verified(work, user)
    except IntegrityError:
        # Another account took the address between the check and the commit.
        raise AddressTaken from None


def _move_to(work: UnitOfWork, user: User, address: str) -> None:
    """The account's address becomes `address`; links sent to the old one stop working."""
    if _taken_by_another(address, user.id):
        raise AddressTaken
    user.email = address
    db.session.execute(delete(AccountToken).where(AccountToken.user_id == user.id))
    db.session.flush()
    work.audit("email_changed", user_id=user.id)


def mark_verified(user: User) -> None:
    """An operator vouches for the address (`flask users verify-email`)."""
    with unit_of_work() as work:
        _mark_verified(work, user)


def _mark_verified(work: UnitOfWork, user: User) -> None:
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    db.session.execute(
        delete(AccountToken).where(
            AccountToken.user_id == user.id, AccountToken.purpose == EMAIL_VERIFICATION
        )
    )
    # `/auth/me` reads the account from the revocation store's cache.
    holder_changed(work, user_holder(user.id))
    work.audit("email_verified", user_id=user.id)
