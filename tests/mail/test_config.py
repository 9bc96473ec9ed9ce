"""Mail settings: MAIL_URL, the backend each config gets, and what Production refuses."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from myapi import create_app
from myapi.adapters.flask_mailman import VerifiedSMTPBackend
from myapi.config import ConfigError, Development, Production, Testing, mail_url_settings
from myapi.library_settings import library_settings
from myapi.mail.console import BANNER, MarkedConsoleBackend
from myapi.mail.messages import build_message
from tests.helpers.logs import capture_logs

SAFE_PRODUCTION = {
    "JWT_SECRET_KEY": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "PUBLIC_URL": "https://api.example.com",
    "PASSWORD_HASH_METHOD": "scrypt:131072:8:1",
}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.internal", ("mail.internal", 25, "", "", False, False)),
        (
            "smtp+starttls://api%40x:p%3Ass@smtp.example.com",
            ("smtp.example.com", 587, "api@x", "p:ss", True, False),
        ),
        ("smtps://u:p@smtp.example.com:2465", ("smtp.example.com", 2465, "u", "p", False, True)),
    ],
)
def test_mail_url_stands_for_the_mail_settings(url: str, expected: tuple) -> None:
    settings = mail_url_settings(url)

    assert (
        settings["MAIL_SERVER"],
        settings["MAIL_PORT"],
        settings["MAIL_USERNAME"],
        settings["MAIL_PASSWORD"],
        settings["MAIL_USE_TLS"],
        settings["MAIL_USE_SSL"],
    ) == expected


@pytest.mark.parametrize(
    "url",
    ["http://mail.example.com", "smtp://", "smtp://host/path", "smtp://host?x=1", "smtp://h:x"],
)
def test_a_mail_url_that_is_not_an_smtp_server_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="MAIL_URL"):
        Testing(MAIL_URL=url)


def test_production_refuses_account_emails_without_an_smtp_server() -> None:
    reasons = Production(ACCOUNT_EMAILS=True, **SAFE_PRODUCTION).unsafe_reasons()

    assert any("no SMTP server" in reason for reason in reasons)


def test_production_starts_with_an_smtp_server_or_without_account_emails() -> None:
    with_smtp = Production(
        ACCOUNT_EMAILS=True, MAIL_URL="smtp+starttls://u:p@smtp.example.com", **SAFE_PRODUCTION
    )
    without = Production(**SAFE_PRODUCTION)

    assert with_smtp.unsafe_reasons() == []
    assert without.ACCOUNT_EMAILS is False
    assert without.unsafe_reasons() == []


def test_production_refuses_a_plain_http_front_end_url() -> None:
    reasons = Production(FRONTEND_URL="http://app.example.com", **SAFE_PRODUCTION).unsafe_reasons()

    assert any("FRONTEND_URL" in reason for reason in reasons)


def test_a_front_end_url_with_a_query_is_refused() -> None:
    with pytest.raises(ConfigError, match="FRONTEND_URL"):
        Testing(FRONTEND_URL="https://app.example.com/?next=1")


def test_without_smtp_development_prints_and_testing_keeps_mail_in_memory() -> None:
    def backend(config: object) -> Any:
        return library_settings(
            {name: getattr(config, name) for name in dir(config) if name.isupper()}
        )["MAIL_BACKEND"]

    assert backend(Development()) is MarkedConsoleBackend
    assert backend(Testing()) == "locmem"
    assert backend(Development(MAIL_URL="smtp://mail.internal")) is VerifiedSMTPBackend


def test_development_without_smtp_prints_each_message_marked_as_not_sent() -> None:
    app = create_app(Development(SQLALCHEMY_DATABASE_URI="sqlite://"))
    logs = capture_logs()
    try:
        with app.app_context():
            message = build_message(
                "password_changed", "alice@example.com", {"username": "alice", "changed_at": "now"}
            )
            sent = message.send()
    finally:
        logging.getLogger("myapi").removeHandler(logs)

    assert sent == 1
    (line,) = logs.entries
    assert line["level"] == "warning"
    assert BANNER in line["message"]
    assert "Subject: Your password was changed" in line["message"]
