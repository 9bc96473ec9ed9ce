"""Password reset by email, end to end over a real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from myapi.models import User
from myapi.security.opaque_tokens import opaque_token_hash
from myapi.services import accounts, recovery
from tests.helpers.clock import Clock
from tests.helpers.http import PASSWORD, assert_problem, bearer
from tests.helpers.logs import LogLines
from tests.helpers.oauth import Credentials
from tests.mail.observe import (
    INVALID_RESET_TOKEN,
    comparable,
    forgot,
    outbox_rows,
    reset,
    reset_request_rows,
    token_rows,
)
from tests.mail.smtp_server import LoopbackSMTP, html_body, link_in, text_body, token_in

NEW_PASSWORD = "a brand new passphrase"


def reset_link_for(
    client: FlaskClient, smtp_server: LoopbackSMTP, deliver: Callable[[], Any], email: str
) -> str:
    assert forgot(client, email).status_code == 202
    deliver()
    return link_in(smtp_server.to(email.lower())[-1])


def test_a_forgotten_password_is_reset_with_the_emailed_link(
    client: FlaskClient,
    alice: User,
    alice_headers: dict[str, str],
    smtp_server: LoopbackSMTP,
    deliver: Callable[[], Any],
    logs: LogLines,
) -> None:
    pat = client.post(
        "/auth/tokens", json={"name": "ci", "scope": "notes:read"}, headers=alice_headers
    ).json["token"]

    link = reset_link_for(client, smtp_server, deliver, "Alice@Example.com")
    answer = reset(client, link.split("#token=")[1], NEW_PASSWORD)

    assert answer.status_code == 204
    assert (
        client.post("/auth/login", json={"username": "alice", "password": PASSWORD}).status_code
        == 401
    )
    assert (
        client.post("/auth/login", json={"username": "alice", "password": NEW_PASSWORD}).status_code
        == 200
    )
    assert client.get("/auth/me", headers=alice_headers).status_code == 401
    assert client.get("/auth/me", headers=bearer(pat)).status_code == 401
    (event,) = logs.events("password_reset")
    assert event["user_id"] == alice.id
    assert event["sessions_revoked"] == 1
    assert event["personal_tokens_revoked"] == 1


def test_a_reset_ends_the_apps_the_user_authorized_too(
    client: FlaskClient,
    alice: User,
    web_app: Credentials,
    app_tokens: dict[str, Any],
    smtp_server: LoopbackSMTP,
    deliver: Callable[[], Any],
) -> None:
    link = reset_link_for(client, smtp_server, deliver, "alice@example.com")

    assert reset(client, link.split("#token=")[1], NEW_PASSWORD).status_code == 204

    notes = client.get("/api/v1/notes", headers=bearer(app_tokens["access_token"]))
    assert_problem(notes, 401)
    refreshed = client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": app_tokens["refresh_token"]},
        headers=web_app.basic,
    )
    assert refreshed.status_code == 400
    assert refreshed.json["error"] == "invalid_grant"


def test_the_link_is_the_front_end_page_with_the_token_in_its_fragment(
    client: FlaskClient, alice: User, smtp_server: LoopbackSMTP, deliver: Callable[[], Any]
) -> None:
    forgot(client, "alice@example.com")
    deliver()

    (message,) = smtp_server.to("alice@example.com")
    link = link_in(message)
    assert link.startswith("http://localhost/reset-password#token=myapi_pwr_")
    assert "?" not in link
    assert link in html_body(message)
    assert message["Subject"] == "Reset your password"
    assert "30 minutes" in text_body(message)


def test_a_forged_host_header_does_not_change_the_link(
    client: FlaskClient, alice: User, smtp_server: LoopbackSMTP, deliver: Callable[[], Any]
) -> None:
    forgot(
        client,
        "alice@example.com",
        headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )
    deliver()

    assert link_in(smtp_server.to("alice@example.com")[0]).startswith("http://localhost/")


def test_the_answer_is_the_same_for_an_account_an_unknown_address_and_a_disabled_account(
    client: FlaskClient, alice: User, bob: User
) -> None:
    accounts.set_active(bob, False)

    known = forgot(client, "alice@example.com")
    unknown = forgot(client, "nobody@example.com")
    disabled = forgot(client, "bob@example.com")

    assert known.status_code == 202
    assert comparable(known) == comparable(unknown) == comparable(disabled)
    assert recovery.resolve_reset_requests() == 3
    assert [row.recipient for row in outbox_rows()] == ["alice@example.com"]
    assert reset_request_rows() == []


def test_a_request_writes_the_same_row_whether_or_not_an_account_has_the_address(
    client: FlaskClient, alice: User, statements: list[str]
) -> None:
    forgot(client, "alice@example.com")
    for_an_account = list(statements)
    statements.clear()
    forgot(client, "nobody@example.com")

    assert statements == for_an_account
    assert [row.email for row in reset_request_rows()] == [
        "alice@example.com",
        "nobody@example.com",
    ]
    assert outbox_rows() == []


def test_a_request_left_unresolved_longer_than_a_link_lives_is_dropped(
    client: FlaskClient, alice: User, deliver: Callable[[], Any], clock: Clock
) -> None:
    forgot(client, "alice@example.com")
    clock.advance(minutes=30)

    deliver()

    assert reset_request_rows() == []
    assert outbox_rows() == []
    assert token_rows() == []


def test_the_token_is_kept_only_as_a_hash_and_the_sent_message_is_erased(
    client: FlaskClient, alice: User, smtp_server: LoopbackSMTP, deliver: Callable[[], Any]
) -> None:
    forgot(client, "alice@example.com")
    recovery.resolve_reset_requests()
    (queued,) = outbox_rows()
    assert "myapi_pwr_" in queued.context

    deliver()

    token = token_in(smtp_server.to("alice@example.com")[0])
    assert [row.token_hash for row in token_rows()] == [opaque_token_hash(token)]
    (sent,) = outbox_rows()
    assert sent.sent_at is not None
    assert sent.context == "{}"


def test_a_used_link_is_refused_like_an_unknown_one(
    client: FlaskClient, alice: User, smtp_server: LoopbackSMTP, deliver: Callable[[], Any]
) -> None:
    token = token_in_link(reset_link_for(client, smtp_server, deliver, "alice@example.com"))
    assert reset(client, token, NEW_PASSWORD).status_code == 204

    reused = reset(client, token, "yet another passphrase")
    unknown = reset(client, "myapi_pwr_" + "A" * 43, "yet another passphrase")

    assert assert_problem(reused, 400)["type"] == INVALID_RESET_TOKEN
    assert comparable(reused, counters=False) == comparable(unknown, counters=False)
    assert (
        client.post("/auth/login", json={"username": "alice", "password": NEW_PASSWORD}).status_code
        == 200
    )


def test_a_link_expires_after_its_lifetime(
    client: FlaskClient,
    alice: User,
    smtp_server: LoopbackSMTP,
    deliver: Callable[[], Any],
    clock: Clock,
) -> None:
    token = token_in_link(reset_link_for(client, smtp_server, deliver, "alice@example.com"))

    clock.advance(minutes=30, seconds=1)
    expired = reset(client, token, NEW_PASSWORD)

    assert assert_problem(expired, 400)["type"] == INVALID_RESET_TOKEN
    unknown = reset(client, "not-a-token", NEW_PASSWORD)
    assert comparable(expired, counters=False) == comparable(unknown, counters=False)


def test_a_link_works_until_just_before_it_expires(
    client: FlaskClient,
    alice: User,
    smtp_server: LoopbackSMTP,
    deliver: Callable[[], Any],
    clock: Clock,
) -> None:
    token = token_in_link(reset_link_for(client, smtp_server, deliver, "alice@example.com"))

    clock.advance(minutes=29, seconds=59)

    assert reset(client, token, NEW_PASSWORD).status_code == 204


def test_a_newer_request_voids_the_older_link(
    client: FlaskClient, alice: User, smtp_server: LoopbackSMTP, deliver: Callable[[], Any]
) -> None:
    older = token_in_link(reset_link_for(client, smtp_server, deliver, "alice@example.com"))
    newer = token_in_link(reset_link_for(client, smtp_server, deliver, "alice@example.com"))

    assert reset(client, older, NEW_PASSWORD).status_code == 400
    assert reset(client, newer, NEW_PASSWORD).status_code == 204


def test_a_password_change_voids_the_link_and_sends_a_notice(
    client: FlaskClient, alice: User, smtp_server: LoopbackSMTP, deliver: Callable[[], Any]
) -> None:
    token = token_in_link(reset_link_for(client, smtp_server, deliver, "alice@example.com"))

    accounts.set_password(alice, "changed by the owner")
    deliver()

    assert reset(client, token, NEW_PASSWORD).status_code == 400
    subjects = [m["Subject"] for m in smtp_server.to("alice@example.com")]
    assert subjects == ["Reset your password", "Your password was changed"]


def test_a_reset_sends_a_password_changed_notice(
    client: FlaskClient, alice: User, smtp_server: LoopbackSMTP, deliver: Callable[[], Any]
) -> None:
    token = token_in_link(reset_link_for(client, smtp_server, deliver, "alice@example.com"))
    reset(client, token, NEW_PASSWORD)
    deliver()

    notice = smtp_server.to("alice@example.com")[-1]
    assert notice["Subject"] == "Your password was changed"
    assert "#token=" not in text_body(notice)


def test_the_new_password_follows_the_registration_rules(
    client: FlaskClient, alice: User, smtp_server: LoopbackSMTP, deliver: Callable[[], Any]
) -> None:
    token = token_in_link(reset_link_for(client, smtp_server, deliver, "alice@example.com"))

    weak = reset(client, token, "password123")

    assert_problem(weak, 422)
    assert reset(client, token, NEW_PASSWORD).status_code == 204


def test_requests_are_limited_per_email_address_from_any_client(
    client: FlaskClient, alice: User
) -> None:
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        answer = forgot(client, "alice@example.com", environ_base={"REMOTE_ADDR": address})
        assert answer.status_code == 202

    fourth = forgot(client, "ALICE@example.com", environ_base={"REMOTE_ADDR": "10.0.0.4"})
    unknown_fourth = None
    for address in ("10.0.1.1", "10.0.1.2", "10.0.1.3", "10.0.1.4"):
        unknown_fourth = forgot(client, "ghost@example.com", environ_base={"REMOTE_ADDR": address})

    assert fourth.status_code == 429
    assert comparable(fourth) == comparable(unknown_fourth)
    recovery.resolve_reset_requests()
    assert len(outbox_rows()) == 3


def test_requests_are_limited_per_client_address_whatever_they_ask_about(
    app: Flask, client: FlaskClient
) -> None:
    app.config["FORGOT_PASSWORD_LIMIT_PER_IP"] = "2 per hour"

    def ask(email: str, ip: str = "10.0.0.1") -> Any:
        return forgot(client, email, environ_base={"REMOTE_ADDR": ip})

    answers = [ask(f"user{n}@example.com") for n in range(3)]
    elsewhere = ask("user9@example.com", ip="10.0.0.2")

    assert [answer.status_code for answer in answers] == [202, 202, 429]
    assert elsewhere.status_code == 202


TOKEN_ENDPOINTS = {
    "password reset": ("/auth/password/reset", {"new_password": NEW_PASSWORD}),
    "email verification": ("/auth/email/verify", {}),
}


@pytest.mark.parametrize(("path", "body"), TOKEN_ENDPOINTS.values(), ids=TOKEN_ENDPOINTS)
def test_guessed_link_tokens_are_limited_per_client_address(
    app: Flask, client: FlaskClient, path: str, body: dict[str, str]
) -> None:
    app.config["RESET_PASSWORD_LIMIT_PER_IP"] = "2 per hour"

    def guess(n: int, ip: str = "10.0.0.1") -> Any:
        guessed = body | {"token": f"guess-{n}"}
        return client.post(path, json=guessed, environ_base={"REMOTE_ADDR": ip})

    answers = [guess(n) for n in range(3)]
    elsewhere = guess(9, ip="10.0.0.2")

    assert [answer.status_code for answer in answers] == [400, 400, 429]
    assert elsewhere.status_code == 400


def test_the_longest_email_address_is_counted_per_address_asked_about(
    app: Flask, client: FlaskClient
) -> None:
    app.config["FORGOT_PASSWORD_LIMIT_PER_EMAIL"] = "2 per hour"
    longest = "a" * 242 + "@example.com"

    answers = [
        forgot(client, longest, environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}) for n in (1, 2, 3)
    ]

    assert [answer.status_code for answer in answers] == [202, 202, 429]


NO_USABLE_EMAIL = {
    "no email": {},
    "a number": {"email": 7},
    "blank": {"email": "  "},
    "a list body": ["alice@example.com"],
    "longer than any account's": {"email": "a" * 243 + "@example.com"},
}


@pytest.mark.parametrize("body", NO_USABLE_EMAIL.values(), ids=NO_USABLE_EMAIL)
def test_a_request_that_names_no_email_is_counted_against_its_address(
    app: Flask, client: FlaskClient, body: Any
) -> None:
    app.config["FORGOT_PASSWORD_LIMIT_PER_EMAIL"] = "2 per hour"

    def ask(ip: str) -> Any:
        return client.post("/auth/password/forgot", json=body, environ_base={"REMOTE_ADDR": ip})

    first, second, third = (ask("10.0.0.1") for _ in range(3))
    elsewhere = ask("10.0.0.2")

    assert first.status_code == second.status_code == elsewhere.status_code == 422
    assert third.status_code == 429


def test_without_account_emails_the_endpoints_do_not_exist(app: Flask, alice: User) -> None:
    app.config["ACCOUNT_EMAILS"] = False
    client = app.test_client()

    assert_problem(forgot(client, "alice@example.com"), 404)
    assert_problem(reset(client, "myapi_pwr_" + "A" * 43, NEW_PASSWORD), 404)
    assert outbox_rows() == []


def token_in_link(link: str) -> str:
    return link.split("#token=", 1)[1]
