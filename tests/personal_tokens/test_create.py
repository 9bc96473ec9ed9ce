"""POST /auth/tokens: a token shown once, stored as a hash, within the owner's role."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from myapi.extensions import db
from myapi.models import PersonalAccessToken, User
from myapi.security.personal_tokens import PAT_PREFIX
from myapi.services.personal_tokens import MAX_LIVE_TOKENS
from tests.helpers.http import assert_problem, bearer, refresh
from tests.helpers.logs import LogLines
from tests.personal_tokens.helpers import FRESH_LOGIN_REQUIRED, create_token, token_row

VALIDATION_ERROR = "urn:myapi:problem:validation-error"


def test_a_new_token_is_shown_once_with_its_details(
    client: FlaskClient, alice_headers: dict[str, str]
) -> None:
    response = create_token(client, alice_headers, name="nightly export", scope="notes:read")

    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert set(body) == {"id", "name", "scope", "token", "created_at", "expires_at"}
    assert body["name"] == "nightly export"
    assert body["scope"] == "notes:read"
    assert body["token"].startswith(PAT_PREFIX)
    assert len(body["token"]) == len(PAT_PREFIX) + 43


def test_the_token_never_appears_again(
    client: FlaskClient, alice_headers: dict[str, str], make_pat: Callable[..., dict[str, Any]]
) -> None:
    token = make_pat(alice_headers)["token"]

    listing = client.get("/auth/tokens", headers=alice_headers)

    assert token not in listing.get_data(as_text=True)
    assert "token" not in listing.json[0]
    assert "token_hash" not in listing.json[0]


def test_only_the_sha256_of_the_token_is_stored(
    alice_headers: dict[str, str], make_pat: Callable[..., dict[str, Any]]
) -> None:
    created = make_pat(alice_headers)

    row = token_row(created["id"])

    assert row.token_hash == hashlib.sha256(created["token"].encode()).hexdigest()
    stored = [str(getattr(row, column.key)) for column in PersonalAccessToken.__table__.columns]
    assert not any(created["token"][len(PAT_PREFIX) :] in value for value in stored)


def test_two_tokens_differ(
    alice_headers: dict[str, str], make_pat: Callable[..., dict[str, Any]]
) -> None:
    assert make_pat(alice_headers)["token"] != make_pat(alice_headers)["token"]


def test_a_token_expires_after_30_days_unless_asked(
    alice_headers: dict[str, str], make_pat: Callable[..., dict[str, Any]]
) -> None:
    default = token_row(make_pat(alice_headers)["id"])
    week = token_row(make_pat(alice_headers, expires_in_days=7)["id"])

    assert default.expires_at - default.created_at == timedelta(days=30)
    assert week.expires_at - week.created_at == timedelta(days=7)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"scope": ""}, "scope"),
        ({"scope": "   "}, "scope"),
        ({"scope": "notes:delete"}, "scope"),
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": 367}, "expires_in_days"),
        ({"expires_in_days": "30"}, "expires_in_days"),
        ({"token": "myapi_pat_" + "a" * 43}, "token"),
    ],
    ids=[
        "empty-name",
        "long-name",
        "empty-scope",
        "blank-scope",
        "unknown-scope",
        "zero-days",
        "beyond-max-days",
        "days-as-text",
        "chosen-token",
    ],
)
def test_invalid_requests_are_refused_with_422(
    client: FlaskClient, alice_headers: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = create_token(client, alice_headers, **body)

    problem = assert_problem(response, 422)
    assert problem["type"] == VALIDATION_ERROR
    assert field in problem["errors"]


def test_the_maximum_lifetime_follows_the_setting(
    app: Flask, client: FlaskClient, alice_headers: dict[str, str]
) -> None:
    app.config["PAT_MAX_DAYS"] = 90

    assert create_token(client, alice_headers, expires_in_days=90).status_code == 201
    assert create_token(client, alice_headers, expires_in_days=91).status_code == 422


def test_a_user_cannot_ask_for_more_than_the_role_allows(
    client: FlaskClient, alice_headers: dict[str, str]
) -> None:
    response = create_token(client, alice_headers, scope="notes:read users:read")

    problem = assert_problem(response, 422)
    assert problem["errors"] == {"scope": ["Beyond what this token may grant: users:read."]}
    assert db.session.scalar(select(PersonalAccessToken)) is None


def test_an_admin_may_give_a_token_admin_scopes(
    client: FlaskClient, admin_headers: dict[str, str], make_pat: Callable[..., dict[str, Any]]
) -> None:
    token = make_pat(admin_headers, scope="users:read")["token"]

    assert client.get("/api/v1/admin/users", headers=bearer(token)).status_code == 200


def test_a_user_may_keep_at_most_50_live_tokens(
    client: FlaskClient, alice_headers: dict[str, str], make_pat: Callable[..., dict[str, Any]]
) -> None:
    made = [make_pat(alice_headers) for _ in range(MAX_LIVE_TOKENS)]

    refused = create_token(client, alice_headers)
    client.delete(f"/auth/tokens/{made[0]['id']}", headers=alice_headers)
    after_revoking_one = create_token(client, alice_headers)

    assert "50 live tokens" in assert_problem(refused, 409)["detail"]
    assert after_revoking_one.status_code == 201


def test_the_limit_is_per_user(
    client: FlaskClient,
    alice_headers: dict[str, str],
    bob_headers: dict[str, str],
    make_pat: Callable[..., dict[str, Any]],
) -> None:
    for _ in range(MAX_LIVE_TOKENS):
        make_pat(alice_headers)

    assert create_token(client, bob_headers).status_code == 201


def test_a_token_cannot_make_tokens(
    client: FlaskClient, alice_headers: dict[str, str], alice_pat: str
) -> None:
    response = create_token(client, bearer(alice_pat))

    assert assert_problem(response, 401)["type"] == FRESH_LOGIN_REQUIRED
    assert 'error="insufficient_user_authentication"' in response.headers["WWW-Authenticate"]


def test_a_refreshed_access_token_cannot_make_tokens(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    renewed = refresh(client, alice_tokens["refresh_token"]).json["access_token"]

    response = create_token(client, bearer(renewed))

    assert assert_problem(response, 401)["type"] == FRESH_LOGIN_REQUIRED


def test_making_a_token_needs_a_login(client: FlaskClient) -> None:
    assert assert_problem(create_token(client, {}), 401)["type"].endswith("unauthenticated")


def test_creation_is_audited_without_the_token(
    client: FlaskClient, alice: User, alice_headers: dict[str, str], logs: LogLines
) -> None:
    created = create_token(client, alice_headers).json

    [event] = logs.events("personal_token_created")
    assert event["token_id"] == created["id"]
    assert event["user_id"] == alice.id
    assert created["token"][len(PAT_PREFIX) :] not in logs.text()
