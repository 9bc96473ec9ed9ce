"""The mail outbox: messages queued in the transaction that needs them, sent afterwards.

`queue_message` adds a row inside the caller's unit of work, so a token and the email
that carries it are committed together or not at all, and wakes the in-process sender
after the commit. `deliver_due` is the sender's unit of work, run by that sender
(`myapi.mail.sender`) and by `flask mail send`; each message is claimed, sent and marked in
three short transactions, and no database transaction is held open across SMTP.

Delivery is at most once per successful SMTP transaction: a message is claimed with a
lease (a conditional UPDATE: of two senders, one gets it), and is marked sent, with its
context erased, straight after the server accepted it. The only way to send it twice is a
sender dying, or losing its database, between the server's acceptance and that mark; the
lease then lets another sender try again after it ends. A failure leaves the message to be
retried with exponential backoff until its link expires, when it is given up.
"""

from __future__ import annotations

import json
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select, update

from myapi.clock import as_utc, utcnow
from myapi.extensions import db
from myapi.mail.messages import build_message
from myapi.models import AccountToken, OutboxMessage
from myapi.services.transactions import UnitOfWork, unit_of_work

log = logging.getLogger("myapi.mail")

#: Messages without a link (notices) are given up after this long undelivered.
NOTICE_LIFETIME = timedelta(days=3)
#: The backoff doubles per failed attempt, up to this many times the first delay.
MAX_BACKOFF_FACTOR = 64
#: How many messages one pass sends at most (the next pass takes the rest).
BATCH = 50


def queue_message(
    work: UnitOfWork,
    template: str,
    recipient: str,
    context: dict[str, Any],
    *,
    expires_at: datetime | None = None,
) -> None:
    """Queue an email in the caller's unit of work; the sender is woken after its commit."""
    now = utcnow()
    db.session.add(
        OutboxMessage(
            template=template,
            recipient=recipient,
            context=json.dumps(context),
            created_at=now,
            next_attempt_at=now,
            expires_at=expires_at or now + NOTICE_LIFETIME,
        )
    )
    work.after_commit(wake_sender)


def wake_sender() -> None:
    """Tell this process's sender there is mail (a no-op in `worker` delivery mode)."""
    sender = current_app.extensions.get("mail_sender")
    if sender is not None:
        sender.wake()


@dataclass
class Delivery:
    """What one pass of `deliver_due` did."""

    sent: int = 0
    failed: int = 0
    abandoned: int = 0


def _unsent() -> list[Any]:
    return [OutboxMessage.sent_at.is_(None), OutboxMessage.abandoned_at.is_(None)]


def _lease() -> timedelta:
    """Long enough for one SMTP conversation (connect, send, quit) to time out."""
    return timedelta(seconds=3 * current_app.config["MAIL_TIMEOUT_SECONDS"] + 30)


def _backoff(attempts: int) -> timedelta:
    base = current_app.config["MAIL_RETRY_SECONDS"]
    return timedelta(seconds=base * min(2 ** max(attempts - 1, 0), MAX_BACKOFF_FACTOR))


def deliver_due() -> Delivery:
    """Send every message that is due; give up the expired ones. Safe to run anywhere, at once.

    A connection failure ends the pass (the server is down: the others would fail too);
    they stay due and the next pass tries again.
    """
    report = Delivery(abandoned=_abandon_expired())
    now = utcnow()
    due = list(
        db.session.scalars(
            select(OutboxMessage.id)
            .where(
                *_unsent(),
                OutboxMessage.next_attempt_at <= now,
                (OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until < now),
            )
            .order_by(OutboxMessage.id)
            .limit(BATCH)
        )
    )
    db.session.commit()
    if not due:
        return report
    for message_id in due:
        message = _claim(message_id)
        if message is None:
            continue
        email = build_message(message.template, message.recipient, json.loads(message.context))
        try:
            # Flask-Mailman opens a connection for this one message and closes it after.
            email.send()
        except (smtplib.SMTPException, OSError) as error:
            _failed(message, error)
            report.failed += 1
            if not isinstance(error, smtplib.SMTPRecipientsRefused):
                break
        else:
            _sent(message)
            report.sent += 1
    return report


def _abandon_expired() -> int:
    now = utcnow()
    result = db.session.execute(
        update(OutboxMessage)
        .where(*_unsent(), OutboxMessage.expires_at <= now)
        .where((OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until < now))
        .values(abandoned_at=now, context="{}", claimed_until=None)
    )
    db.session.commit()
    if result.rowcount:
        log.warning("%s mail message(s) given up: undelivered until expiry", result.rowcount)
    return result.rowcount


def _claim(message_id: int) -> OutboxMessage | None:
    """Take the message for one attempt, unless another sender holds or finished it."""
    now = utcnow()
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            *_unsent(),
            (OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until < now),
        )
        .values(claimed_until=now + _lease(), attempts=OutboxMessage.attempts + 1)
    )
    db.session.commit()
    if result.rowcount != 1:
        return None
    return db.session.get(OutboxMessage, message_id)


def _sent(message: OutboxMessage) -> None:
    message.sent_at = utcnow()
    message.context = "{}"
    message.claimed_until = None
    message.last_error = None
    db.session.commit()


def _failed(message: OutboxMessage, error: Exception) -> None:
    """Record the failure by its type only (an SMTP reply may quote the recipient)."""
    message.claimed_until = None
    message.next_attempt_at = utcnow() + _backoff(message.attempts)
    message.last_error = type(error).__name__
    db.session.commit()
    log.warning(
        "mail not sent, will retry: %s (message %s, attempt %s)",
        type(error).__name__,
        message.id,
        message.attempts,
    )


#: Sent and given-up rows (already erased) are kept this long for inspection, then pruned.
FINISHED_KEPT = timedelta(days=7)


def prune(now: datetime | None = None) -> tuple[int, int]:
    """Delete expired account tokens and finished outbox rows; returns the two counts."""
    now = now or utcnow()
    with unit_of_work():
        links = db.session.execute(delete(AccountToken).where(AccountToken.expires_at < now))
        cutoff = now - FINISHED_KEPT
        finished = db.session.execute(
            delete(OutboxMessage).where(
                (OutboxMessage.sent_at < cutoff) | (OutboxMessage.abandoned_at < cutoff)
            )
        )
    return links.rowcount, finished.rowcount


def backlog() -> tuple[int, float]:
    """How many messages wait to be sent, and the age in seconds of the oldest (0 if none)."""
    count, oldest = db.session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(*_unsent())
    ).one()
    db.session.rollback()
    age = (utcnow() - as_utc(oldest)).total_seconds() if oldest is not None else 0.0
    return count, max(age, 0.0)
