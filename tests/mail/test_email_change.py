"""Changing the email address: a link to the new address, a notice to the old one, and the
change only when the link is followed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from myapi.models import User
from myapi.services import accounts
from tests.helpers.http import PASSWORD, assert_problem, bearer
from tests.mail.smtp_server import LoopbackSMTP, text_body, token_in

CHANGE = "/auth/email"
VERIFY = "/auth/email/verify"
NOTICE = "A change of your email address was requested"
LINK = "Verify your email address"


def change(client: FlaskClient, headers: dict[str, str], email: str) -> Any:
    return client.put(CHANGE, json={"email": email}, headers=headers)


def test_the_change_takes_effect_when_the_new_address_is_verified(
    client: FlaskClient,
    alice: User,
    alice_headers: dict[str, str],
    smtp_server: LoopbackSMTP,
    deliver: Callable[[], Any],
) -> None:
    answer = change(client, alice_headers, "Alice.New@Example.com")
    deliver()

    assert answer.status_code == 202
    assert client.get("/auth/me", headers=alice_headers).json["email"] == "alice@example.com"
    (notice,) = smtp_server.to("alice@example.com", NOTICE)
    assert "alice.new@example.com" in text_body(notice)
    (link,) = smtp_server.to("alice.new@example.com", LINK)

    assert client.post(VERIFY, json={"token": token_in(link)}).status_code == 204
    me = client.get("/auth/me", headers=alice_headers).json
    assert (me["email"], me["email_verified"]) == ("alice.new@example.com", True)
    login = {"username": "alice.new@example.com", "password": PASSWORD}
    assert client.post("/auth/login", json=login).status_code == 200


def test_the_new_address_must_be_free_and_different_under_the_normal_form(
    client: FlaskClient, alice: User, bob: User, alice_headers: dict[str, str]
) -> None:
    assert_problem(change(client, alice_headers, "BOB@example.com"), 409)
    same = assert_problem(change(client, alice_headers, "ALICE@example.com"), 409)
    assert same["detail"] == "This is the account's email address already."


def test_an_address_taken_before_the_link_is_followed_is_a_409_and_changes_nothing(
    client: FlaskClient,
    alice: User,
    alice_headers: dict[str, str],
    smtp_server: LoopbackSMTP,
    deliver: Callable[[], Any],
) -> None:
    change(client, alice_headers, "shared@example.com")
    deliver()
    accounts.register("carol", "shared@example.com", PASSWORD, email_verified=True)

    answer = client.post(VERIFY, json={"token": token_in(smtp_server.to("shared@example.com")[0])})

    assert_problem(answer, 409)
    assert client.get("/auth/me", headers=alice_headers).json["email"] == "alice@example.com"


def test_a_change_needs_a_fresh_login(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    refreshed = client.post("/auth/refresh", headers=bearer(alice_tokens["refresh_token"])).json

    assert_problem(change(client, bearer(refreshed["access_token"]), "new@example.com"), 401)


def test_a_newer_change_voids_the_older_link_and_old_reset_links_die_with_the_change(
    client: FlaskClient,
    alice: User,
    alice_headers: dict[str, str],
    smtp_server: LoopbackSMTP,
    deliver: Callable[[], Any],
) -> None:
    client.post("/auth/password/forgot", json={"email": "alice@example.com"})
    change(client, alice_headers, "first@example.com")
    change(client, alice_headers, "second@example.com")
    deliver()
    reset_token = token_in(smtp_server.to("alice@example.com", "Reset your password")[0])

    first = client.post(VERIFY, json={"token": token_in(smtp_server.to("first@example.com")[0])})
    second = client.post(VERIFY, json={"token": token_in(smtp_server.to("second@example.com")[0])})

    assert first.status_code == 400
    assert second.status_code == 204
    reset = client.post(
        "/auth/password/reset", json={"token": reset_token, "new_password": "a new passphrase"}
    )
    assert reset.status_code == 400


def test_changes_are_limited_per_account_from_any_address(
    app: Flask, client: FlaskClient, alice: User, alice_headers: dict[str, str]
) -> None:
    app.config["VERIFY_RESEND_LIMIT"] = "2 per hour"

    answers = [change(client, alice_headers, f"alice{n}@example.com") for n in range(2)]
    third = client.put(
        CHANGE,
        json={"email": "alice9@example.com"},
        headers=alice_headers,
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )

    assert [answer.status_code for answer in answers] == [202, 202]
    assert_problem(third, 429)
