"""Password recovery by email, after the OWASP Forgot Password cheat sheet.

A request names an email address, always gets the same answer and always writes the same
one row. After the answer, the sender resolves it: for an active account it makes a
single-use token (32 random bytes, kept only as its SHA-256, via `security.opaque_tokens`)
and queues the email carrying it, in one transaction, replacing any token asked for before;
for any other address it does nothing. Presenting the token with a new password sets it, ends every
session and personal access token of the account, voids every other link and queues a
"password changed" notice, all in one transaction; an unknown, used, superseded or expired
token is one and the same refusal.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from myapi.clock import utcnow
from myapi.extensions import db
from myapi.models import AccountToken, PasswordResetRequest, User
from myapi.public_urls import front_end_link
from myapi.security.opaque_tokens import has_opaque_shape, new_opaque_token, opaque_token_hash
from myapi.security.passwords import hash_password
from myapi.services.accounts import PASSWORD_RESET, find_user, replace_password
from myapi.services.outbox import BATCH, queue_message, wake_sender
from myapi.services.transactions import unit_of_work

#: Recognisable in a leak, like the other opaque tokens.
RESET_TOKEN_PREFIX = "myapi_pwr_"
#: The front-end page an emailed reset link opens.
RESET_PAGE = "reset-password"


class InvalidResetToken(Exception):
    """Unknown, used, superseded or expired: deliberately not said which."""


def request_password_reset(email: str) -> None:
    """Record that a link was asked for `email` (normalised): one row, whatever the address.

    Nothing here depends on whether an account has the address, so the answer costs the
    same either way (row E8); `resolve_reset_requests` decides after the answer, on the
    sender's thread or process, which it wakes.
    """
    with unit_of_work() as work:
        db.session.add(PasswordResetRequest(email=email, created_at=utcnow()))
        work.after_commit(wake_sender)


def resolve_reset_requests() -> int:
    """Turn each recorded request into a link for an active account, or into nothing.

    Each request is its own unit of work: the request row is deleted (a conditional DELETE,
    so of two senders only one resolves it) in the transaction that writes the token and
    queues the email carrying it. A request older than a link's lifetime is dropped (the
    sender was down that long; the user has asked again or given up). Returns how many
    requests were resolved.
    """
    pending = list(
        db.session.scalars(
            select(PasswordResetRequest.id).order_by(PasswordResetRequest.id).limit(BATCH)
        )
    )
    db.session.commit()
    for request_id in pending:
        _resolve(request_id)
    return len(pending)


def _resolve(request_id: int) -> None:
    now = utcnow()
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    with unit_of_work() as work:
        asked = db.session.get(PasswordResetRequest, request_id)
        spent = db.session.execute(
            delete(PasswordResetRequest).where(PasswordResetRequest.id == request_id)
        ).rowcount
        if asked is None or spent != 1 or asked.created_at <= now - timedelta(minutes=minutes):
            return
        user = find_user(asked.email)
        if user is None or not user.is_active:
            return
        token = new_opaque_token(RESET_TOKEN_PREFIX)
        expires_at = now + timedelta(minutes=minutes)
        # A newer request voids the older links.
        db.session.execute(
            delete(AccountToken).where(
                AccountToken.user_id == user.id, AccountToken.purpose == PASSWORD_RESET
            )
        )
        db.session.add(
            AccountToken(
                token_hash=opaque_token_hash(token),
                user_id=user.id,
                purpose=PASSWORD_RESET,
                created_at=now,
                expires_at=expires_at,
            )
        )
        queue_message(
            work,
            "password_reset",
            user.email,
            {
                "username": user.username,
                "link": front_end_link(RESET_PAGE, token),
                "minutes": minutes,
            },
            expires_at=expires_at,
        )
        work.audit("password_reset_requested", user_id=user.id, source="mail-sender")


def reset_password(token: str, new_password: str) -> None:
    """Set the password of the token's account and end all its credentials at once.

    The token is spent first, by a conditional DELETE in the transaction that changes the
    password: of concurrent resets with one token, exactly one deletes the row (the others
    wait for its row lock, then find nothing) and the others raise InvalidResetToken without
    hashing anything. The hash is computed inside that transaction, so a failure there
    (HashingBusy) rolls the spending back and the link still works.
    """
    if not has_opaque_shape(token, RESET_TOKEN_PREFIX):
        raise InvalidResetToken
    live = (
        AccountToken.token_hash == opaque_token_hash(token),
        AccountToken.purpose == PASSWORD_RESET,
        AccountToken.expires_at > utcnow(),
    )
    with unit_of_work() as work:
        user_id = db.session.scalar(select(AccountToken.user_id).where(*live))
        if user_id is None or db.session.execute(delete(AccountToken).where(*live)).rowcount != 1:
            raise InvalidResetToken
        user = db.session.get(User, user_id)
        if user is None or not user.is_active:
            raise InvalidResetToken
        ended = replace_password(work, user, hash_password(new_password))
        work.audit("password_reset", user_id=user.id, **ended)
