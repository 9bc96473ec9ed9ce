"""POST /auth/refresh: rotation, the grace window, and reuse detection that revokes the family."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from myapi.models import User
from myapi.services.accounts import set_active
from tests.auth.observe import (
    UNAUTHENTICATED,
    assert_invalid_token,
    challenge,
    claims,
    live_session_ids,
    me,
    post_login,
    session_row,
)
from tests.helpers.clock import Clock
from tests.helpers.http import PASSWORD, assert_problem, refresh


@pytest.fixture
def no_grace(app: Flask) -> None:
    app.config["REFRESH_GRACE_SECONDS"] = 0


def test_refresh_rotates_to_a_new_pair_of_the_same_session(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    response = refresh(client, alice_tokens["refresh_token"])

    assert response.status_code == 200
    pair = response.json
    assert pair["token_type"] == "Bearer"
    assert pair["scope"] == alice_tokens["scope"]
    assert pair["access_token"] != alice_tokens["access_token"]
    assert pair["refresh_token"] != alice_tokens["refresh_token"]
    old, new = claims(alice_tokens["refresh_token"]), claims(pair["refresh_token"])
    assert new["sid"] == old["sid"]
    assert new["jti"] != old["jti"]
    session = session_row(old["sid"])
    assert session.refresh_jti == new["jti"]
    assert session.previous_refresh_jti == old["jti"]
    assert session.access_jti == claims(pair["access_token"])["jti"]


def test_refresh_response_must_not_be_cached(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    response = refresh(client, alice_tokens["refresh_token"])

    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


def test_refreshed_access_token_works_and_is_not_fresh(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    pair = refresh(client, alice_tokens["refresh_token"]).json

    response = me(client, pair["access_token"])

    assert response.status_code == 200
    assert response.json["id"] == alice.id
    assert claims(pair["access_token"])["fresh"] is False


def test_the_new_refresh_token_rotates_again(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    second = refresh(client, alice_tokens["refresh_token"]).json

    third = refresh(client, second["refresh_token"])

    assert third.status_code == 200
    assert third.json["refresh_token"] not in (
        alice_tokens["refresh_token"],
        second["refresh_token"],
    )


def test_refresh_keeps_the_scope_granted_at_login(client: FlaskClient, alice: User) -> None:
    tokens = post_login(client, "alice", scope="notes:read").json

    pair = refresh(client, tokens["refresh_token"]).json

    assert pair["scope"] == "notes:read"
    assert claims(pair["access_token"])["scope"] == "notes:read"


def test_a_retry_inside_the_grace_window_returns_the_identical_pair(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    first = refresh(client, alice_tokens["refresh_token"])

    retry = refresh(client, alice_tokens["refresh_token"])

    assert retry.status_code == 200
    assert retry.json["access_token"] == first.json["access_token"]
    assert retry.json["refresh_token"] == first.json["refresh_token"]
    sid = claims(first.json["refresh_token"])["sid"]
    assert live_session_ids(alice) == {sid}
    assert session_row(sid).refresh_jti == claims(first.json["refresh_token"])["jti"]
    assert refresh(client, first.json["refresh_token"]).status_code == 200


@pytest.mark.parametrize(("after", "answer"), [(0, 200), (10, 200), (11, 401)])
def test_the_grace_window_ends_exactly_after_refresh_grace_seconds(
    app: Flask, client: FlaskClient, alice: User, clock: Clock, after: int, answer: int
) -> None:
    # Issued under the frozen clock, as everything in this test.
    tokens = client.post("/auth/login", json={"username": "alice", "password": PASSWORD}).json
    assert app.config["REFRESH_GRACE_SECONDS"] == 10
    first = refresh(client, tokens["refresh_token"])
    clock.advance(seconds=after)

    retry = refresh(client, tokens["refresh_token"])

    assert retry.status_code == answer
    sid = claims(first.json["refresh_token"])["sid"]
    assert live_session_ids(alice) == ({sid} if answer == 200 else set())


def test_grace_covers_only_the_token_rotated_last(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    second = refresh(client, alice_tokens["refresh_token"]).json
    third = refresh(client, second["refresh_token"]).json

    response = refresh(client, alice_tokens["refresh_token"])

    assert_invalid_token(response)
    assert live_session_ids(alice) == set()
    assert_invalid_token(refresh(client, third["refresh_token"]))


@pytest.mark.usefixtures("no_grace")
def test_reusing_a_rotated_refresh_token_revokes_the_whole_session(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    rotated = refresh(client, alice_tokens["refresh_token"]).json

    response = refresh(client, alice_tokens["refresh_token"])

    assert_invalid_token(response)
    sid = claims(alice_tokens["refresh_token"])["sid"]
    assert session_row(sid).revoked_at is not None
    assert_invalid_token(refresh(client, rotated["refresh_token"]))
    assert_invalid_token(me(client, rotated["access_token"]))
    assert_invalid_token(me(client, alice_tokens["access_token"]))


@pytest.mark.usefixtures("no_grace")
def test_reuse_revokes_only_the_reused_session(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    other_device = post_login(client, "alice").json
    refresh(client, alice_tokens["refresh_token"])

    assert_invalid_token(refresh(client, alice_tokens["refresh_token"]))

    assert live_session_ids(alice) == {claims(other_device["access_token"])["sid"]}
    assert me(client, other_device["access_token"]).status_code == 200
    assert refresh(client, other_device["refresh_token"]).status_code == 200


def test_an_access_token_cannot_refresh(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    sid = claims(alice_tokens["access_token"])["sid"]
    before = session_row(sid).refresh_jti

    response = refresh(client, alice_tokens["access_token"])

    assert_invalid_token(response)
    assert session_row(sid).refresh_jti == before
    assert refresh(client, alice_tokens["refresh_token"]).status_code == 200


def test_a_refresh_token_cannot_call_the_api(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    assert_invalid_token(me(client, alice_tokens["refresh_token"]))


def test_refresh_without_a_token_asks_for_credentials(client: FlaskClient) -> None:
    response = client.post("/auth/refresh")

    body = assert_problem(response, 401)
    assert body["type"] == UNAUTHENTICATED
    assert challenge(response) == 'Bearer realm="myapi"'


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
def test_refresh_with_a_malformed_token_is_refused(client: FlaskClient, token: str) -> None:
    assert_invalid_token(refresh(client, token))


def test_a_disabled_users_refresh_token_is_refused(
    client: FlaskClient,
    alice: User,
    alice_tokens: dict[str, Any],
) -> None:
    set_active(alice, False)

    assert_invalid_token(refresh(client, alice_tokens["refresh_token"]))
