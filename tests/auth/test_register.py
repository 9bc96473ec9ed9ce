"""POST /auth/register: a new `user` account, never echoing a secret."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from myapi.extensions import db
from myapi.models import User
from tests.auth.observe import VALIDATION_ERROR, post_login
from tests.helpers.http import PASSWORD, assert_problem

USER_FIELDS = {"id", "username", "email", "role", "is_active", "created_at"}


def register(client: FlaskClient, **fields: Any) -> Any:
    body = {"username": "alice", "email": "alice@example.com", "password": PASSWORD} | fields
    return client.post("/auth/register", json=body)


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_register_creates_a_user_account_and_returns_it_without_any_hash(
    app: Flask, client: FlaskClient
) -> None:
    response = register(client)

    assert response.status_code == 201
    body = response.json
    assert set(body) == USER_FIELDS
    assert body["username"] == "alice"
    assert body["email"] == "alice@example.com"
    assert body["role"] == "user"
    assert body["is_active"] is True
    text = response.get_data(as_text=True)
    assert "hash" not in text
    assert PASSWORD not in text
    user = db.session.get(User, body["id"])
    assert user.password_hash.startswith(app.config["PASSWORD_HASH_METHOD"] + "$")
    assert PASSWORD not in user.password_hash


def test_registered_account_can_log_in(client: FlaskClient) -> None:
    register(client)

    response = post_login(client, "alice")

    assert response.status_code == 200
    assert response.json["access_token"]


def test_register_lowercases_username_and_email(client: FlaskClient) -> None:
    response = register(client, username="Alice.Smith", email="Alice.Smith@Example.COM")

    assert response.status_code == 201
    assert response.json["username"] == "alice.smith"
    assert response.json["email"] == "alice.smith@example.com"
    assert post_login(client, "ALICE.SMITH").status_code == 200


@pytest.mark.parametrize("username", ["ALICE", "Alice", "alice"])
def test_register_refuses_a_username_taken_in_any_case(client: FlaskClient, username: str) -> None:
    register(client)

    response = register(client, username=username, email="other@example.com")

    body = assert_problem(response, 409)
    assert "already exists" in body["detail"]
    assert user_count() == 1


@pytest.mark.parametrize("email", ["alice@example.com", "ALICE@Example.com"])
def test_register_refuses_a_taken_email(client: FlaskClient, email: str) -> None:
    register(client)

    response = register(client, username="alice2", email=email)

    assert_problem(response, 409)
    assert user_count() == 1


@pytest.mark.parametrize("username", ["abc", "a" * 32, "a_b.c-9", "ABC"])
def test_register_accepts_usernames_of_3_to_32_allowed_characters(
    client: FlaskClient, username: str
) -> None:
    response = register(client, username=username)

    assert response.status_code == 201
    assert response.json["username"] == username.lower()


@pytest.mark.parametrize("username", ["ab", "a" * 33, "al ice", "alice!", "al@ce", "ålice", ""])
def test_register_refuses_malformed_usernames(client: FlaskClient, username: str) -> None:
    response = register(client, username=username)

    body = assert_problem(response, 422)
    assert body["type"] == VALIDATION_ERROR
    assert set(body["errors"]) == {"username"}
    assert user_count() == 0


@pytest.mark.parametrize(
    "password",
    ["x7!kQ2#mZp9v", "ünïcödé with spaces", "k" * 64, "p" * 128],
    ids=["12-chars", "unicode-spaces", "64-chars", "128-chars"],
)
def test_register_accepts_passwords_of_12_to_128_characters(
    client: FlaskClient, password: str
) -> None:
    response = register(client, password=password)

    assert response.status_code == 201
    assert post_login(client, "alice", password).status_code == 200


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("x7!kQ2#mZp9", "at least 12"),
        ("p" * 129, "at most 128"),
        ("p" * 1000, "at most 128"),
        ("qwerty123456", "commonly used"),
        ("QWERTY123456", "commonly used"),
        ("1Qaz2Wsx3Edc", "commonly used"),
    ],
    ids=["11-chars", "129-chars", "1000-chars", "common", "common-upper", "common-mixed"],
)
def test_register_refuses_short_long_and_common_passwords(
    client: FlaskClient, password: str, message: str
) -> None:
    response = register(client, password=password)

    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"password"}
    assert message in " ".join(body["errors"]["password"])
    assert user_count() == 0


def test_register_refuses_an_invalid_email(client: FlaskClient) -> None:
    response = register(client, email="not-an-email")

    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"email"}
    assert user_count() == 0


def test_register_refuses_missing_fields(client: FlaskClient) -> None:
    response = client.post("/auth/register", json={})

    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"username", "email", "password"}


def test_register_refuses_unknown_fields_such_as_a_role(client: FlaskClient) -> None:
    response = register(client, role="admin", is_active=True)

    body = assert_problem(response, 422)
    assert {"role", "is_active"} <= set(body["errors"])
    assert user_count() == 0
