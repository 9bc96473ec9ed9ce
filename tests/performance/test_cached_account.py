"""With Redis, `/auth/me` answers from the account cached beside the revocation state; every
change of the account's public fields must show on the very next request (issue 11)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from myapi.extensions import db
from myapi.models import User
from myapi.services.accounts import delete_user, set_active, set_role
from tests.helpers.http import PASSWORD, bearer


def me(client: FlaskClient, headers: dict[str, str]) -> Any:
    return client.get("/auth/me", headers=headers)


def account(user_id: int) -> User:
    return db.session.get(User, user_id)


def test_a_role_change_shows_at_once(
    client: FlaskClient, alice: User, alice_headers: dict[str, str]
) -> None:
    assert me(client, alice_headers).json["role"] == "user"

    set_role(account(alice.id), "admin")

    assert me(client, alice_headers).json["role"] == "admin"


def test_disabling_refuses_at_once_and_enabling_shows_the_account_active(
    client: FlaskClient, alice: User, alice_headers: dict[str, str]
) -> None:
    assert me(client, alice_headers).json["is_active"] is True

    set_active(account(alice.id), False)
    refused = me(client, alice_headers)
    set_active(account(alice.id), True)
    fresh_login = client.post("/auth/login", json={"username": "alice", "password": PASSWORD})

    assert refused.status_code == 401
    assert me(client, bearer(fresh_login.json["access_token"])).json["is_active"] is True


def test_a_deleted_account_is_refused_at_once(
    client: FlaskClient, alice: User, alice_headers: dict[str, str]
) -> None:
    assert me(client, alice_headers).status_code == 200

    delete_user(account(alice.id))

    assert me(client, alice_headers).status_code == 401


def test_the_cached_account_is_the_one_the_database_holds(
    client: FlaskClient, alice: User, alice_headers: dict[str, str]
) -> None:
    cached = me(client, alice_headers).json
    again = me(client, alice_headers).json

    stored = account(alice.id)
    assert cached == again
    assert cached["username"] == stored.username
    assert cached["email"] == stored.email
    assert cached["created_at"] == stored.created_at.isoformat()
