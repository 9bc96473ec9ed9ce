"""POST /auth/logout ends this session; POST /auth/logout-all ends every session of the caller."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from myapi.models import User
from tests.auth.observe import (
    UNAUTHENTICATED,
    assert_invalid_token,
    challenge,
    claims,
    is_denied,
    live_session_ids,
    me,
    post_login,
    session_row,
)
from tests.helpers.http import assert_problem, bearer, refresh


@pytest.mark.parametrize("path", ["/auth/logout", "/auth/logout-all"])
def test_logging_out_needs_an_access_token(client: FlaskClient, path: str) -> None:
    response = client.post(path)

    body = assert_problem(response, 401)
    assert body["type"] == UNAUTHENTICATED
    assert challenge(response) == 'Bearer realm="myapi"'


def test_logout_answers_204_with_no_body(client: FlaskClient, alice_tokens: dict[str, Any]) -> None:
    response = client.post("/auth/logout", headers=bearer(alice_tokens["access_token"]))

    assert response.status_code == 204
    assert response.get_data() == b""


def test_logout_kills_the_access_token_and_the_refresh_token(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    client.post("/auth/logout", headers=bearer(alice_tokens["access_token"]))

    assert_invalid_token(me(client, alice_tokens["access_token"]))
    assert_invalid_token(refresh(client, alice_tokens["refresh_token"]))
    assert_invalid_token(client.post("/auth/logout", headers=bearer(alice_tokens["access_token"])))


def test_logout_revokes_the_session_and_denies_the_access_jti(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    access = claims(alice_tokens["access_token"])

    client.post("/auth/logout", headers=bearer(alice_tokens["access_token"]))

    assert session_row(access["sid"]).revoked_at is not None
    assert is_denied(access["jti"])


def test_logout_leaves_the_users_other_sessions_and_other_users_alone(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any], bob: User
) -> None:
    other_device = post_login(client, "alice").json
    bobs = post_login(client, "bob").json

    client.post("/auth/logout", headers=bearer(alice_tokens["access_token"]))

    assert live_session_ids(alice) == {claims(other_device["access_token"])["sid"]}
    assert me(client, other_device["access_token"]).status_code == 200
    assert refresh(client, other_device["refresh_token"]).status_code == 200
    assert me(client, bobs["access_token"]).status_code == 200


def test_a_refresh_token_cannot_log_out(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    response = client.post("/auth/logout", headers=bearer(alice_tokens["refresh_token"]))

    assert_invalid_token(response)
    assert live_session_ids(alice) == {claims(alice_tokens["access_token"])["sid"]}


def test_logout_all_kills_every_session_of_the_caller(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    other_device = post_login(client, "alice").json

    response = client.post("/auth/logout-all", headers=bearer(alice_tokens["access_token"]))

    assert response.status_code == 204
    assert response.get_data() == b""
    assert live_session_ids(alice) == set()
    for tokens in (alice_tokens, other_device):
        assert_invalid_token(me(client, tokens["access_token"]))
        assert_invalid_token(refresh(client, tokens["refresh_token"]))


def test_logout_all_leaves_other_users_alone(
    client: FlaskClient, alice_tokens: dict[str, Any], bob: User
) -> None:
    bobs = post_login(client, "bob").json

    client.post("/auth/logout-all", headers=bearer(alice_tokens["access_token"]))

    assert live_session_ids(bob) == {claims(bobs["access_token"])["sid"]}
    assert me(client, bobs["access_token"]).status_code == 200


def test_the_user_can_log_in_again_after_logout_all(
    client: FlaskClient, alice: User, alice_tokens: dict[str, Any]
) -> None:
    client.post("/auth/logout-all", headers=bearer(alice_tokens["access_token"]))

    tokens = post_login(client, "alice").json

    assert me(client, tokens["access_token"]).status_code == 200
    assert live_session_ids(alice) == {claims(tokens["access_token"])["sid"]}
