"""Email verification: the link sent at registration, resending it, and what shows it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from myapi.clock import utcnow
from myapi.config import ConfigError, Testing
from myapi.security.principal import Account
from myapi.security.revocation import _decode_account, _encode_account
from tests.helpers.clock import Clock
from tests.helpers.http import PASSWORD, assert_problem, bearer
from tests.mail.observe import comparable, outbox_rows
from tests.mail.smtp_server import LoopbackSMTP, link_in, token_in

INVALID_VERIFICATION_TOKEN = "urn:myapi:problem:invalid-verification-token"
VERIFY = "/auth/email/verify"
RESEND = "/auth/email/resend"
SUBJECT = "Verify your email address"


def register(client: FlaskClient, username: str = "carol") -> dict[str, str]:
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    assert client.post("/auth/register", json=body).status_code == 201
    login = {"username": username, "password": PASSWORD}
    return bearer(client.post("/auth/login", json=login).json["access_token"])


def verification_token(smtp_server: LoopbackSMTP, address: str) -> str:
    return token_in([m for m in smtp_server.to(address) if m["Subject"] == SUBJECT][-1])


def test_registration_sends_a_link_that_verifies_the_address(
    client: FlaskClient,
    smtp_server: LoopbackSMTP,
    deliver: Callable[[], Any],
    admin_headers: dict[str, str],
) -> None:
    headers = register(client)
    assert client.get("/auth/me", headers=headers).json["email_verified"] is False

    deliver()
    (message,) = smtp_server.to("carol@example.com")
    assert message["Subject"] == SUBJECT
    assert link_in(message).startswith("http://localhost/verify-email#token=myapi_evt_")
    answer = client.post(VERIFY, json={"token": token_in(message)})

    assert answer.status_code == 204
    me = client.get("/auth/me", headers=headers).json
    assert me["email_verified"] is True
    listed = client.get("/api/v1/admin/users", headers=admin_headers).json["items"]
    assert {u["username"]: u["email_verified"] for u in listed}["carol"] is True


def test_a_used_expired_or_unknown_link_is_one_and_the_same_400(
    client: FlaskClient,
    smtp_server: LoopbackSMTP,
    deliver: Callable[[], Any],
    clock: Clock,
) -> None:
    register(client, "carol")
    register(client, "dave")
    deliver()
    carol = verification_token(smtp_server, "carol@example.com")
    dave = verification_token(smtp_server, "dave@example.com")
    assert client.post(VERIFY, json={"token": carol}).status_code == 204

    used = client.post(VERIFY, json={"token": carol})
    clock.advance(hours=24, seconds=1)
    expired = client.post(VERIFY, json={"token": dave})
    unknown = client.post(VERIFY, json={"token": "myapi_evt_" + "A" * 43})

    assert assert_problem(used, 400)["type"] == INVALID_VERIFICATION_TOKEN
    shapes = {repr(comparable(r, counters=False)) for r in (used, expired, unknown)}
    assert len(shapes) == 1


def test_a_resent_link_voids_the_older_one(
    client: FlaskClient, smtp_server: LoopbackSMTP, deliver: Callable[[], Any]
) -> None:
    headers = register(client)
    deliver()
    older = verification_token(smtp_server, "carol@example.com")

    answer = client.post(RESEND, headers=headers)
    deliver()
    newer = verification_token(smtp_server, "carol@example.com")

    assert answer.status_code == 202
    assert newer != older
    assert client.post(VERIFY, json={"token": older}).status_code == 400
    assert client.post(VERIFY, json={"token": newer}).status_code == 204


def test_resending_needs_an_access_token_and_is_limited_per_account(
    client: FlaskClient,
) -> None:
    headers = register(client)

    assert_problem(client.post(RESEND), 401)
    answers = [client.post(RESEND, headers=headers).status_code for _ in range(4)]
    from_elsewhere = client.post(RESEND, headers=headers, environ_base={"REMOTE_ADDR": "10.9.9.9"})

    assert answers == [202, 202, 202, 429]
    assert from_elsewhere.status_code == 429
    assert len(outbox_rows()) == 4  # the one sent at registration and three resent


def test_an_operator_can_vouch_for_an_address(
    app: Flask, client: FlaskClient, deliver: Callable[[], Any], smtp_server: LoopbackSMTP
) -> None:
    headers = register(client)

    result = app.test_cli_runner().invoke(args=["users", "verify-email", "carol"])

    assert result.exit_code == 0, result.output
    assert "carol@example.com of carol is verified" in result.output
    assert client.get("/auth/me", headers=headers).json["email_verified"] is True
    assert "verified:  yes" in app.test_cli_runner().invoke(args=["users", "show", "carol"]).output
    assert_problem(client.post(RESEND, headers=headers), 409)
    deliver()
    emailed = verification_token(smtp_server, "carol@example.com")
    assert client.post(VERIFY, json={"token": emailed}).status_code == 400


def test_without_account_emails_registration_queues_nothing(app: Flask) -> None:
    app.config["ACCOUNT_EMAILS"] = False
    client = app.test_client()
    headers = register(client)

    assert outbox_rows() == []
    assert_problem(client.post(VERIFY, json={"token": "myapi_evt_" + "A" * 43}), 404)
    assert_problem(client.post(RESEND, headers=headers), 404)


def test_a_cached_account_from_before_verification_existed_reads_as_unverified() -> None:
    account = Account(7, "carol", "carol@example.com", "user", True, utcnow(), True)
    old_entry = _encode_account(account).rsplit(",", 1)[0] + "]"

    assert _decode_account(_encode_account(account)) == account
    assert _decode_account(old_entry).email_verified is False


EMAIL_NOT_VERIFIED = "urn:myapi:problem:email-not-verified"


def log_in(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    return client.post("/auth/login", json={"username": username, "password": password})


def test_with_require_verified_email_an_unverified_login_is_a_403_that_resends_the_link(
    app: Flask,
    client: FlaskClient,
    smtp_server: LoopbackSMTP,
    deliver: Callable[[], Any],
    clock: Clock,
) -> None:
    app.config["REQUIRE_VERIFIED_EMAIL"] = True
    client.post(
        "/auth/register",
        json={"username": "carol", "email": "carol@example.com", "password": PASSWORD},
    )

    refused = log_in(client, "carol")
    again = log_in(client, "carol")
    deliver()

    assert assert_problem(refused, 403)["type"] == EMAIL_NOT_VERIFIED
    assert again.get_data() == refused.get_data()
    # The link from registration is recent: no second email for these two refusals.
    assert len(smtp_server.to("carol@example.com", SUBJECT)) == 1
    clock.advance(minutes=10, seconds=1)
    log_in(client, "carol")
    deliver()
    assert len(smtp_server.to("carol@example.com", SUBJECT)) == 2

    verified = client.post(
        VERIFY, json={"token": verification_token(smtp_server, "carol@example.com")}
    )
    assert verified.status_code == 204
    assert log_in(client, "carol").status_code == 200


def test_the_403_needs_the_right_password_and_does_not_use_up_the_login_limit(
    app: Flask, client: FlaskClient
) -> None:
    app.config["REQUIRE_VERIFIED_EMAIL"] = True
    client.post(
        "/auth/register",
        json={"username": "carol", "email": "carol@example.com", "password": PASSWORD},
    )

    wrong = log_in(client, "carol", "not the password at all")
    refusals = [log_in(client, "carol").status_code for _ in range(6)]

    assert assert_problem(wrong, 401)
    assert refusals == [403] * 6


def test_require_verified_email_without_account_emails_is_refused() -> None:
    with pytest.raises(ConfigError, match="REQUIRE_VERIFIED_EMAIL"):
        Testing(REQUIRE_VERIFIED_EMAIL=True, ACCOUNT_EMAILS=False)
