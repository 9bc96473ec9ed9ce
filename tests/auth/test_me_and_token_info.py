"""GET /auth/me and GET /auth/token-info, and what becomes of tokens when an account goes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from myapi.clock import from_epoch
from myapi.models import User
from myapi.services.accounts import delete_user, register, set_active
from tests.auth.observe import (
    INVALID_CREDENTIALS,
    INVALID_TOKEN,
    UNAUTHENTICATED,
    assert_invalid_token,
    challenge,
    claims,
    live_session_ids,
    me,
    post_login,
)
from tests.helpers.clock import Clock
from tests.helpers.http import PASSWORD, assert_problem, bearer, refresh

TOKEN_INFO_FIELDS = {"sub", "kind", "scope", "sid", "iat", "exp", "fresh"}


def token_info(client: FlaskClient, access_token: str) -> Any:
    return client.get("/auth/token-info", headers=bearer(access_token))


def test_me_returns_the_callers_account_without_any_hash(
    client: FlaskClient, alice: User, alice_headers: dict[str, str]
) -> None:
    response = client.get("/auth/me", headers=alice_headers)

    assert response.status_code == 200
    assert response.json == {
        "id": alice.id,
        "username": "alice",
        "email": "alice@example.com",
        "role": "user",
        "is_active": True,
        "email_verified": False,
        "created_at": response.json["created_at"],
    }
    assert "hash" not in response.get_data(as_text=True)


def test_me_answers_each_caller_with_their_own_account(
    client: FlaskClient, alice_headers: dict[str, str], bob: User, bob_headers: dict[str, str]
) -> None:
    assert client.get("/auth/me", headers=bob_headers).json["username"] == "bob"
    assert client.get("/auth/me", headers=alice_headers).json["username"] == "alice"


def test_me_without_a_token_asks_for_credentials(client: FlaskClient) -> None:
    response = client.get("/auth/me")

    body = assert_problem(response, 401)
    assert body["type"] == UNAUTHENTICATED
    assert challenge(response) == 'Bearer realm="myapi"'


def test_me_with_a_malformed_token_is_refused(client: FlaskClient) -> None:
    response = me(client, "not-a-token")

    body = assert_problem(response, 401)
    assert body["type"] == INVALID_TOKEN
    assert 'error="invalid_token"' in challenge(response)


def test_token_info_describes_the_verified_token(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    response = token_info(client, alice_tokens["access_token"])

    assert response.status_code == 200
    token = claims(alice_tokens["access_token"])
    assert response.json == {
        "sub": str(alice.id),
        "kind": "session",
        "scope": "notes:read notes:write",
        "sid": token["sid"],
        "iat": token["iat"],
        "exp": token["exp"],
        "fresh": True,
    }


def test_token_info_shows_a_narrowed_scope(client: FlaskClient, alice: User) -> None:
    tokens = post_login(client, "alice", scope="notes:read").json

    assert token_info(client, tokens["access_token"]).json["scope"] == "notes:read"


def test_token_info_says_a_refreshed_token_is_not_fresh(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    refreshed = refresh(client, alice_tokens["refresh_token"]).json

    response = token_info(client, refreshed["access_token"])

    assert response.json["fresh"] is False
    assert response.json["sid"] == claims(alice_tokens["access_token"])["sid"]


def test_token_info_says_a_login_token_stops_being_fresh_after_the_window(
    app: Flask, client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    app.config["FRESH_LOGIN_MINUTES"] = 0

    response = token_info(client, alice_tokens["access_token"])

    assert set(response.json) == TOKEN_INFO_FIELDS
    assert response.json["fresh"] is False


@pytest.mark.parametrize(("after", "fresh"), [(0, True), (1, False)])
def test_a_login_token_is_fresh_to_the_last_second_of_the_window(
    app: Flask,
    client: FlaskClient,
    alice_tokens: dict[str, Any],
    clock: Clock,
    after: int,
    fresh: bool,
) -> None:
    issued = from_epoch(claims(alice_tokens["access_token"])["iat"])
    window = timedelta(minutes=app.config["FRESH_LOGIN_MINUTES"])
    clock.now = issued + window + timedelta(seconds=after)

    response = token_info(client, alice_tokens["access_token"])

    assert response.json["fresh"] is fresh


def test_token_info_refuses_a_refresh_token(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    response = token_info(client, alice_tokens["refresh_token"])

    assert_invalid_token(response)


def test_disabling_an_account_kills_all_its_tokens_and_logins(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    other_device = post_login(client, "alice").json

    set_active(alice, False)

    assert live_session_ids(alice) == set()
    for tokens in (alice_tokens, other_device):
        assert_invalid_token(me(client, tokens["access_token"]))
        assert_invalid_token(refresh(client, tokens["refresh_token"]))
    assert assert_problem(post_login(client, "alice"), 401)["type"] == INVALID_CREDENTIALS


def test_enabling_an_account_again_restores_no_old_token(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    set_active(alice, False)

    set_active(alice, True)

    assert_invalid_token(me(client, alice_tokens["access_token"]))
    assert_invalid_token(refresh(client, alice_tokens["refresh_token"]))
    assert post_login(client, "alice").status_code == 200


def test_a_deleted_accounts_tokens_are_refused(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    delete_user(alice)

    assert_invalid_token(me(client, alice_tokens["access_token"]))
    assert_invalid_token(refresh(client, alice_tokens["refresh_token"]))


def test_a_deleted_accounts_tokens_never_work_for_the_next_account_registered(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    delete_user(alice)

    mallory = register("mallory", "mallory@example.com", PASSWORD)

    assert_invalid_token(me(client, alice_tokens["access_token"]))
    assert_invalid_token(refresh(client, alice_tokens["refresh_token"]))
    assert live_session_ids(mallory) == set()
