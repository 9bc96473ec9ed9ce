"""The outbox: queued in the request's transaction, sent after it, retried until it arrives,
sent once."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from myapi import create_app
from myapi.config import Testing
from myapi.extensions import db
from myapi.mail.sender import one_pass
from myapi.services import accounts, outbox, recovery, transactions
from tests.helpers.clock import Clock
from tests.helpers.http import PASSWORD
from tests.helpers.polling import poll
from tests.mail.observe import forgot, outbox_rows, token_rows
from tests.mail.smtp_server import LoopbackSMTP


def test_the_request_commits_and_the_process_sends_right_after(
    threaded_app: Flask, smtp_server: LoopbackSMTP
) -> None:
    accounts.register("alice", "alice@example.com", PASSWORD, email_verified=True)

    answer = forgot(threaded_app.test_client(), "alice@example.com")

    assert answer.status_code == 202
    poll(lambda: smtp_server.to("alice@example.com"), bool, "the reset email", timeout=10)


def test_mail_queued_while_smtp_is_down_arrives_exactly_once_when_it_is_back(
    threaded_app: Flask, smtp_server: LoopbackSMTP
) -> None:
    accounts.register("alice", "alice@example.com", PASSWORD, email_verified=True)
    smtp_server.stop()

    answer = forgot(threaded_app.test_client(), "alice@example.com")
    assert answer.status_code == 202
    poll(
        outbox_rows,
        lambda rows: bool(rows) and rows[0].last_error is not None,
        "a failed attempt",
        timeout=10,
    )
    smtp_server.start()

    poll(lambda: smtp_server.to("alice@example.com"), bool, "the reset email", timeout=15)
    # Several more retry periods (MAIL_RETRY_SECONDS=1): nothing is sent again.
    time.sleep(3)
    assert len(smtp_server.to("alice@example.com")) == 1
    (row,) = outbox_rows()
    assert row.sent_at is not None
    assert row.attempts >= 2


def test_a_failed_message_waits_for_its_backoff_then_is_sent(
    client: FlaskClient,
    alice: Any,
    smtp_server: LoopbackSMTP,
    deliver: Callable[[], outbox.Delivery],
    clock: Clock,
) -> None:
    smtp_server.stop()
    forgot(client, "alice@example.com")

    assert deliver() == outbox.Delivery(failed=1)
    assert outbox.backlog()[0] == 1
    smtp_server.start()
    assert deliver() == outbox.Delivery()  # not due yet

    clock.advance(seconds=30)
    assert deliver() == outbox.Delivery(sent=1)
    assert deliver() == outbox.Delivery()
    assert len(smtp_server.to("alice@example.com")) == 1
    assert outbox.backlog() == (0, 0.0)


def test_the_backoff_doubles_per_failure(
    client: FlaskClient,
    alice: Any,
    smtp_server: LoopbackSMTP,
    deliver: Callable[[], outbox.Delivery],
    clock: Clock,
) -> None:
    smtp_server.stop()
    forgot(client, "alice@example.com")
    delays = []
    for _ in range(3):
        deliver()
        (row,) = outbox_rows()
        delays.append(row.next_attempt_at - clock.now)
        clock.advance(seconds=delays[-1].total_seconds())

    assert delays == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]


def test_a_message_another_sender_holds_is_left_to_it_until_its_lease_ends(
    client: FlaskClient,
    alice: Any,
    smtp_server: LoopbackSMTP,
    deliver: Callable[[], outbox.Delivery],
    clock: Clock,
) -> None:
    forgot(client, "alice@example.com")
    recovery.resolve_reset_requests()
    (row,) = outbox_rows()
    row.claimed_until = clock.now + timedelta(seconds=60)
    db.session.merge(row)
    db.session.commit()

    assert deliver() == outbox.Delivery()
    clock.advance(seconds=61)
    assert deliver() == outbox.Delivery(sent=1)
    assert len(smtp_server.messages) == 1


def test_a_message_whose_link_expired_is_given_up_and_erased(
    client: FlaskClient,
    alice: Any,
    smtp_server: LoopbackSMTP,
    deliver: Callable[[], outbox.Delivery],
    clock: Clock,
) -> None:
    smtp_server.stop()
    forgot(client, "alice@example.com")
    deliver()

    clock.advance(minutes=31)
    smtp_server.start()

    assert deliver() == outbox.Delivery(abandoned=1)
    (row,) = outbox_rows()
    assert row.abandoned_at is not None
    assert row.context == "{}"
    assert smtp_server.messages == []
    assert outbox.backlog()[0] == 0


def test_a_rolled_back_unit_of_work_queues_nothing(
    app: Flask, alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def audit_log_gone(*_: Any, **__: Any) -> None:
        raise RuntimeError("the audit log is gone")

    monkeypatch.setattr(transactions, "audit", audit_log_gone)

    with pytest.raises(RuntimeError):
        accounts.set_password(alice, "a brand new passphrase")

    assert outbox_rows() == []


def test_flask_mail_send_delivers_the_outbox(
    app: Flask, client: FlaskClient, alice: Any, smtp_server: LoopbackSMTP
) -> None:
    forgot(client, "alice@example.com")

    result = app.test_cli_runner().invoke(args=["mail", "send"])

    assert result.exit_code == 0, result.output
    assert "sent 1, failed 0, given up 0" in result.output
    assert "still queued: 0" in result.output
    assert len(smtp_server.to("alice@example.com")) == 1


def test_the_backlog_is_in_the_metrics(smtp_server: LoopbackSMTP) -> None:
    app = create_app(Testing(METRICS_ENABLED=True, MAIL_URL=smtp_server.url))
    with app.app_context():
        db.create_all()
        accounts.register("alice", "alice@example.com", PASSWORD, email_verified=True)
        smtp_server.stop()
        forgot(app.test_client(), "alice@example.com")
        one_pass()

        metrics = app.test_client().get("/metrics").get_data(as_text=True)

        assert "myapi_mail_outbox_pending 1.0" in metrics
        assert "myapi_mail_outbox_oldest_seconds " in metrics
        db.session.remove()
        db.drop_all()


def test_tokens_prune_removes_expired_links_and_finished_mail(
    app: Flask,
    client: FlaskClient,
    alice: Any,
    smtp_server: LoopbackSMTP,
    deliver: Callable[[], outbox.Delivery],
    clock: Clock,
) -> None:
    forgot(client, "alice@example.com")
    deliver()
    clock.advance(days=8)

    result = app.test_cli_runner().invoke(args=["tokens", "prune"])

    assert result.exit_code == 0, result.output
    assert "pruned 1 expired email link(s) and 1 finished email(s)" in result.output
    assert outbox_rows() == []
    assert token_rows() == []


def test_tokens_prune_keeps_live_links_and_recent_mail(
    app: Flask, client: FlaskClient, alice: Any, deliver: Callable[[], outbox.Delivery]
) -> None:
    forgot(client, "alice@example.com")
    deliver()

    result = app.test_cli_runner().invoke(args=["tokens", "prune"])

    assert "pruned 0 expired email link(s) and 0 finished email(s)" in result.output
    assert len(outbox_rows()) == 1
    assert len(token_rows()) == 1
