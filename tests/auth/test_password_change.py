"""PUT /auth/password: needs a fresh login and the current password; revokes every other session."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from myapi.models import User
from tests.auth.observe import (
    INVALID_CREDENTIALS,
    UNAUTHENTICATED,
    assert_invalid_token,
    challenge,
    claims,
    live_session_ids,
    me,
    post_login,
    stored_hash,
)
from tests.helpers.http import PASSWORD, assert_problem, bearer, refresh

NEW_PASSWORD = "a completely new passphrase"


def change_password(
    client: FlaskClient, access_token: str, current: str = PASSWORD, new: str = NEW_PASSWORD
) -> Any:
    return client.put(
        "/auth/password",
        json={"current_password": current, "new_password": new},
        headers=bearer(access_token),
    )


def test_changing_the_password_answers_204_and_swaps_the_password(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    before = stored_hash(alice)

    response = change_password(client, alice_tokens["access_token"])

    assert response.status_code == 204
    assert response.get_data() == b""
    assert stored_hash(alice) != before
    assert post_login(client, "alice", NEW_PASSWORD).status_code == 200
    old = post_login(client, "alice", PASSWORD)
    assert assert_problem(old, 401)["type"] == INVALID_CREDENTIALS


def test_changing_the_password_revokes_every_other_session(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    other_device = post_login(client, "alice").json

    change_password(client, alice_tokens["access_token"])

    assert live_session_ids(alice) == {claims(alice_tokens["access_token"])["sid"]}
    assert_invalid_token(me(client, other_device["access_token"]))
    assert_invalid_token(refresh(client, other_device["refresh_token"]))


def test_the_session_that_changed_the_password_keeps_working(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    change_password(client, alice_tokens["access_token"])

    assert me(client, alice_tokens["access_token"]).status_code == 200
    assert refresh(client, alice_tokens["refresh_token"]).status_code == 200


def test_changing_the_password_leaves_other_users_sessions_alone(
    client: FlaskClient, alice_tokens: dict[str, Any], bob: User
) -> None:
    bobs = post_login(client, "bob").json

    change_password(client, alice_tokens["access_token"])

    assert me(client, bobs["access_token"]).status_code == 200


def assert_fresh_login_required(response: Any) -> None:
    body = assert_problem(response, 401)
    assert body["type"] == "urn:myapi:problem:fresh-login-required"
    assert 'error="insufficient_user_authentication"' in challenge(response)


def test_a_token_that_is_no_longer_fresh_cannot_change_the_password(
    app: Flask, client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    other_device = post_login(client, "alice").json
    app.config["FRESH_LOGIN_MINUTES"] = 0
    before = stored_hash(alice)

    response = change_password(client, alice_tokens["access_token"])

    assert_fresh_login_required(response)
    assert stored_hash(alice) == before
    assert me(client, other_device["access_token"]).status_code == 200


def test_a_refreshed_token_is_never_fresh_enough_to_change_the_password(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    before = stored_hash(alice)
    refreshed = refresh(client, alice_tokens["refresh_token"]).json

    response = change_password(client, refreshed["access_token"])

    assert_fresh_login_required(response)
    assert stored_hash(alice) == before


def test_a_wrong_current_password_is_refused_and_changes_nothing(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    other_device = post_login(client, "alice").json
    before = stored_hash(alice)

    response = change_password(client, alice_tokens["access_token"], current="not my password")

    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"current_password"}
    assert stored_hash(alice) == before
    assert me(client, other_device["access_token"]).status_code == 200


def test_the_new_password_must_differ_from_the_current_one(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    before = stored_hash(alice)

    response = change_password(client, alice_tokens["access_token"], new=PASSWORD)

    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"new_password"}
    assert stored_hash(alice) == before


@pytest.mark.parametrize(
    "new",
    ["x7!kQ2#mZp9", "p" * 129, "QWERTY123456"],
    ids=["too-short", "too-long", "common"],
)
def test_the_new_password_follows_the_password_policy(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any], new: str
) -> None:
    before = stored_hash(alice)

    response = change_password(client, alice_tokens["access_token"], new=new)

    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"new_password"}
    assert stored_hash(alice) == before


def test_the_current_password_is_required(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    response = client.put(
        "/auth/password",
        json={"new_password": NEW_PASSWORD},
        headers=bearer(alice_tokens["access_token"]),
    )

    body = assert_problem(response, 422)
    assert "current_password" in body["errors"]


def test_changing_the_password_needs_an_access_token(client: FlaskClient, alice: User) -> None:
    response = client.put(
        "/auth/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert assert_problem(response, 401)["type"] == UNAUTHENTICATED
    assert post_login(client, "alice", PASSWORD).status_code == 200
