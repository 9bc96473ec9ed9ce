"""POST /oauth/introspect (RFC 7662): claims for active tokens, exactly {"active": false} else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from myapi.models import User
from myapi.security.scopes import parse_scope
from myapi.services.accounts import set_active
from myapi.services.personal_tokens import issue as issue_personal_token
from tests.helpers.http import bearer
from tests.helpers.oauth import (
    INTROSPECT,
    REVOKE,
    Credentials,
    assert_oauth_error,
    expired_copy,
)

READ = parse_scope("notes:read")
INACTIVE = {"active": False}


@pytest.fixture
def introspect(client: FlaskClient, introspector: Credentials) -> Callable[[str], dict[str, Any]]:
    """Introspect a token as the resource server's client; returns the 200 body."""

    def ask(token: str) -> dict[str, Any]:
        response = client.post(INTROSPECT, data={"token": token}, headers=introspector.basic)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "application/json"
        assert response.headers["Cache-Control"] == "no-store"
        return response.json

    return ask


def test_a_users_access_token_is_active_with_its_claims(
    app: Flask, alice: User, alice_tokens: dict[str, Any], introspect: Callable[..., Any]
) -> None:
    body = introspect(alice_tokens["access_token"])

    assert body["active"] is True
    assert body["token_type"] == "access_token"
    assert body["sub"] == str(alice.id)
    assert body["username"] == "alice"
    assert body["scope"] == "notes:read notes:write"
    assert body["iss"] == app.config["JWT_ISSUER"]
    assert body["aud"] == app.config["JWT_AUDIENCE"]
    assert {"exp", "iat", "nbf", "jti"} <= set(body)
    assert "client_id" not in body


def test_a_refresh_token_is_active_as_a_refresh_token(
    alice_tokens: dict[str, Any], introspect: Callable[..., Any]
) -> None:
    body = introspect(alice_tokens["refresh_token"])

    assert body["active"] is True
    assert body["token_type"] == "refresh_token"


def test_a_client_token_is_active_with_its_client_id(
    reader: Credentials, client_token: Callable[..., str], introspect: Callable[..., Any]
) -> None:
    body = introspect(client_token(reader))

    assert body["active"] is True
    assert body["client_id"] == body["sub"] == reader.client_id
    assert body["scope"] == "notes:read users:read"
    assert "username" not in body


def test_a_personal_access_token_is_active(alice: User, introspect: Callable[..., Any]) -> None:
    record, pat = issue_personal_token(alice.id, "script", "notes:read", 30, within=READ)

    body = introspect(pat)

    assert body["active"] is True
    assert body["username"] == "alice"
    assert body["jti"] == f"pat-{record.id}"
    assert body["scope"] == "notes:read"


@pytest.mark.parametrize("token", ["garbage", "", "a.b.c", "myapi_pat_" + "A" * 43])
def test_garbage_is_exactly_inactive(introspect: Callable[..., Any], token: str) -> None:
    assert introspect(token) == INACTIVE


def test_an_expired_token_is_exactly_inactive(
    alice_tokens: dict[str, Any], introspect: Callable[..., Any]
) -> None:
    assert introspect(expired_copy(alice_tokens["access_token"])) == INACTIVE


def test_a_revoked_token_is_exactly_inactive(
    client: FlaskClient, alice_tokens: dict[str, Any], introspect: Callable[..., Any]
) -> None:
    access = alice_tokens["access_token"]
    client.post(REVOKE, data={"token": access}, headers=bearer(access))

    assert introspect(access) == INACTIVE


def test_a_disabled_users_token_is_exactly_inactive(
    alice: User, alice_tokens: dict[str, Any], introspect: Callable[..., Any]
) -> None:
    set_active(alice, False)

    assert introspect(alice_tokens["access_token"]) == INACTIVE


def test_a_token_for_another_audience_is_exactly_inactive(
    make_client: Callable[..., Credentials],
    client_token: Callable[..., str],
    introspect: Callable[..., Any],
) -> None:
    credentials = make_client("notes:read", audience="https://reports.example.com")

    assert introspect(client_token(credentials)) == INACTIVE


def test_introspection_without_client_authentication_is_invalid_client(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    response = client.post(INTROSPECT, data={"token": alice_tokens["access_token"]})

    assert_oauth_error(response, 401, "invalid_client")


def test_a_users_bearer_token_does_not_authenticate_introspection(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    access = alice_tokens["access_token"]

    response = client.post(INTROSPECT, data={"token": access}, headers=bearer(access))

    assert_oauth_error(response, 401, "invalid_client")


def test_a_client_without_the_introspect_scope_is_refused(
    client: FlaskClient, alice_tokens: dict[str, Any], reader: Credentials
) -> None:
    response = client.post(
        INTROSPECT, data={"token": alice_tokens["access_token"]}, headers=reader.basic
    )

    assert_oauth_error(response, 403, "unauthorized_client")


def test_a_missing_token_parameter_is_invalid_request(
    client: FlaskClient, introspector: Credentials
) -> None:
    response = client.post(INTROSPECT, data={}, headers=introspector.basic)

    assert_oauth_error(response, 400, "invalid_request")
