"""User administration at /api/v1/admin/users: admins only, and changes bite at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from myapi.extensions import db
from myapi.models import AuthSession, User
from tests.helpers.http import PASSWORD, assert_problem, bearer, refresh
from tests.resources.helpers import ADMIN_USERS, BEYOND_INT32, keys_anywhere, user_url

USER_FIELDS = {"id", "username", "email", "role", "is_active", "email_verified", "created_at"}


def stored_user(user_id: int) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def assert_insufficient_scope(response: Any, scope: str) -> None:
    assert_problem(response, 403)
    challenge = response.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert f'scope="{scope}"' in challenge


# --- reading ----------------------------------------------------------------


def test_an_admin_lists_every_account_in_id_order(
    client: FlaskClient, admin: User, alice: User, bob: User, admin_headers: dict[str, str]
) -> None:
    response = client.get(ADMIN_USERS, headers=admin_headers)

    assert response.status_code == 200
    body = response.json
    assert [item["username"] for item in body["items"]] == ["root", "alice", "bob"]
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (1, 20, 3, 1)
    assert all(set(item) == USER_FIELDS for item in body["items"])
    alice_item = body["items"][1]
    assert alice_item["id"] == alice.id
    assert alice_item["email"] == "alice@example.com"
    assert (alice_item["role"], alice_item["is_active"]) == ("user", True)


def test_the_account_list_is_paginated(
    client: FlaskClient,
    admin: User,
    make_user: Callable[..., User],
    admin_headers: dict[str, str],
) -> None:
    for name in ("user1", "user2", "user3", "user4"):
        make_user(name)

    body = client.get(f"{ADMIN_USERS}?page=2&per_page=2", headers=admin_headers).json

    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (2, 2, 5, 3)
    assert [item["username"] for item in body["items"]] == ["user2", "user3"]


def test_the_account_list_caps_and_validates_pagination(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    capped = client.get(f"{ADMIN_USERS}?per_page=1000", headers=admin_headers)
    refused = client.get(f"{ADMIN_USERS}?page=0", headers=admin_headers)

    assert capped.status_code == 200
    assert capped.json["per_page"] == 100
    assert "page" in assert_problem(refused, 422)["errors"]


def test_an_admin_reads_one_account(
    client: FlaskClient, alice: User, admin_headers: dict[str, str]
) -> None:
    response = client.get(user_url(alice.id), headers=admin_headers)

    assert response.status_code == 200
    assert set(response.json) == USER_FIELDS
    assert (response.json["id"], response.json["username"]) == (alice.id, "alice")


@pytest.mark.parametrize("user_id", [9999, BEYOND_INT32])
def test_an_unknown_account_is_not_found(
    client: FlaskClient, admin_headers: dict[str, str], user_id: int
) -> None:
    assert_problem(client.get(user_url(user_id), headers=admin_headers), 404)
    assert_problem(
        client.patch(user_url(user_id), json={"role": "admin"}, headers=admin_headers), 404
    )


def test_no_admin_response_ever_contains_a_password_hash(
    client: FlaskClient, alice: User, admin_headers: dict[str, str]
) -> None:
    responses = [
        client.get(ADMIN_USERS, headers=admin_headers),
        client.get(user_url(alice.id), headers=admin_headers),
        client.patch(user_url(alice.id), json={"role": "admin"}, headers=admin_headers),
    ]

    for response in responses:
        assert response.status_code == 200
        assert "password_hash" not in keys_anywhere(response.json)
        assert stored_user(alice.id).password_hash not in response.get_data(as_text=True)


# --- who may use it ---------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", ADMIN_USERS, "users:read"),
        ("GET", user_url(1), "users:read"),
        ("PATCH", user_url(1), "users:write"),
    ],
)
def test_a_plain_user_is_refused_with_insufficient_scope(
    client: FlaskClient,
    admin: User,
    alice_headers: dict[str, str],
    method: str,
    path: str,
    scope: str,
) -> None:
    response = client.open(path, method=method, json={"role": "user"}, headers=alice_headers)

    assert_insufficient_scope(response, scope)
    assert stored_user(admin.id).role == "admin"


def test_a_plain_user_cannot_promote_themselves(
    client: FlaskClient, alice: User, alice_headers: dict[str, str]
) -> None:
    response = client.patch(user_url(alice.id), json={"role": "admin"}, headers=alice_headers)

    assert_insufficient_scope(response, "users:write")
    assert stored_user(alice.id).role == "user"


def test_without_a_token_the_admin_api_is_401(client: FlaskClient, alice: User) -> None:
    for response in (
        client.get(ADMIN_USERS),
        client.get(user_url(alice.id)),
        client.patch(user_url(alice.id), json={"is_active": False}),
    ):
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert stored_user(alice.id).is_active is True


def test_an_admin_who_logged_in_with_only_notes_scopes_cannot_administer(
    client: FlaskClient, admin: User, alice: User, login: Callable[..., dict[str, Any]]
) -> None:
    tokens = login("root", scope="notes:read notes:write")
    headers = bearer(tokens["access_token"])

    listed = client.get(ADMIN_USERS, headers=headers)
    patched = client.patch(user_url(alice.id), json={"is_active": False}, headers=headers)

    assert tokens["scope"] == "notes:read notes:write"
    assert_insufficient_scope(listed, "users:read")
    assert_insufficient_scope(patched, "users:write")
    assert stored_user(alice.id).is_active is True


# --- changing roles ---------------------------------------------------------


def test_an_admin_promotes_a_user_who_gains_admin_scopes_at_their_next_login(
    client: FlaskClient,
    alice: User,
    admin_headers: dict[str, str],
    login: Callable[..., dict[str, Any]],
) -> None:
    response = client.patch(user_url(alice.id), json={"role": "admin"}, headers=admin_headers)

    assert response.status_code == 200
    assert response.json["role"] == "admin"
    assert stored_user(alice.id).role == "admin"
    tokens = login("alice")
    assert "users:read" in tokens["scope"].split()
    assert client.get(ADMIN_USERS, headers=bearer(tokens["access_token"])).status_code == 200


def test_demoting_an_admin_takes_users_scopes_from_their_existing_token_at_once(
    client: FlaskClient,
    make_user: Callable[..., User],
    admin_headers: dict[str, str],
    login: Callable[..., dict[str, Any]],
) -> None:
    eve = make_user("eve", role="admin")
    eve_headers = bearer(login("eve")["access_token"])
    assert client.get(ADMIN_USERS, headers=eve_headers).status_code == 200

    response = client.patch(user_url(eve.id), json={"role": "user"}, headers=admin_headers)

    assert response.status_code == 200
    assert response.json["role"] == "user"
    assert_insufficient_scope(client.get(ADMIN_USERS, headers=eve_headers), "users:read")
    assert client.get("/api/v1/notes", headers=eve_headers).status_code == 200


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"role": "superuser"}, "role"),
        ({"role": ""}, "role"),
        ({"role": "ADMIN"}, "role"),
        ({"is_active": "maybe"}, "is_active"),
        ({"is_active": 0}, "is_active"),
        ({"is_active": "false"}, "is_active"),
        ({}, "_schema"),
        ({"password_hash": "x"}, "password_hash"),
        ({"username": "mallory"}, "username"),
    ],
    ids=[
        "unknown-role",
        "empty-role",
        "upper-case-role",
        "bad-bool",
        "number-for-bool",
        "string-for-bool",
        "empty",
        "hash",
        "username",
    ],
)
def test_an_invalid_account_change_is_refused_with_422_and_nothing_changes(
    client: FlaskClient,
    alice: User,
    admin_headers: dict[str, str],
    payload: dict[str, Any],
    field: str,
) -> None:
    before = stored_user(alice.id)
    snapshot = (before.username, before.role, before.is_active, before.password_hash)

    response = client.patch(user_url(alice.id), json=payload, headers=admin_headers)

    assert field in assert_problem(response, 422)["errors"]
    after = stored_user(alice.id)
    assert (after.username, after.role, after.is_active, after.password_hash) == snapshot


@pytest.mark.parametrize("payload", [{"role": "user"}, {"is_active": False}, {"role": "admin"}])
def test_an_admin_cannot_change_their_own_role_or_status(
    client: FlaskClient, admin: User, admin_headers: dict[str, str], payload: dict[str, Any]
) -> None:
    response = client.patch(user_url(admin.id), json=payload, headers=admin_headers)

    assert_problem(response, 409)
    row = stored_user(admin.id)
    assert (row.role, row.is_active) == ("admin", True)
    assert client.get(ADMIN_USERS, headers=admin_headers).status_code == 200


# --- disabling and enabling -------------------------------------------------


def test_disabling_a_user_revokes_all_their_tokens_at_once(
    client: FlaskClient,
    alice: User,
    admin_headers: dict[str, str],
    login: Callable[..., dict[str, Any]],
) -> None:
    first, second = login("alice"), login("alice")

    response = client.patch(user_url(alice.id), json={"is_active": False}, headers=admin_headers)

    assert response.status_code == 200
    assert response.json["is_active"] is False
    for tokens in (first, second):
        rejected = client.get("/auth/me", headers=bearer(tokens["access_token"]))
        assert_problem(rejected, 401)
        assert 'error="invalid_token"' in rejected.headers["WWW-Authenticate"]
        assert_problem(refresh(client, tokens["refresh_token"]), 401)
    db.session.expire_all()
    sessions = db.session.query(AuthSession).filter_by(user_id=alice.id).all()
    assert len(sessions) == 2
    assert all(session.revoked_at is not None for session in sessions)


def test_a_disabled_user_cannot_log_in(
    client: FlaskClient, alice: User, admin_headers: dict[str, str]
) -> None:
    client.patch(user_url(alice.id), json={"is_active": False}, headers=admin_headers)

    response = client.post("/auth/login", json={"username": "alice", "password": PASSWORD})

    assert_problem(response, 401)


def test_re_enabling_a_user_does_not_revive_their_old_tokens(
    client: FlaskClient,
    alice: User,
    alice_tokens: dict[str, Any],
    admin_headers: dict[str, str],
    login: Callable[..., dict[str, Any]],
) -> None:
    client.patch(user_url(alice.id), json={"is_active": False}, headers=admin_headers)

    response = client.patch(user_url(alice.id), json={"is_active": True}, headers=admin_headers)

    assert response.status_code == 200
    assert response.json["is_active"] is True
    assert_problem(client.get("/auth/me", headers=bearer(alice_tokens["access_token"])), 401)
    assert_problem(refresh(client, alice_tokens["refresh_token"]), 401)
    fresh = login("alice")
    assert client.get("/auth/me", headers=bearer(fresh["access_token"])).status_code == 200


def test_disabling_one_user_leaves_other_users_tokens_alone(
    client: FlaskClient,
    alice: User,
    admin_headers: dict[str, str],
    bob_headers: dict[str, str],
) -> None:
    client.patch(user_url(alice.id), json={"is_active": False}, headers=admin_headers)

    assert client.get("/auth/me", headers=bob_headers).status_code == 200
    assert client.get(ADMIN_USERS, headers=admin_headers).status_code == 200
