"""Password policy (catalogue E6, E10, section 7): length, blocklist, truncation, rehash."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import check_password_hash, generate_password_hash

from myapi.extensions import db
from myapi.models import User
from myapi.services.accounts import find_user
from tests.helpers.http import PASSWORD, assert_problem, bearer

LONGEST = "".join(chr(ord("a") + i % 26) for i in range(120)) + "-END-128"


def register(client: FlaskClient, password: str, username: str = "carol") -> Any:
    return client.post(
        "/auth/register",
        json={"username": username, "email": f"{username}@example.com", "password": password},
    )


def login(client: FlaskClient, password: str, username: str = "carol") -> Any:
    return client.post("/auth/login", json={"username": username, "password": password})


def stored_user(username: str) -> User:
    db.session.expire_all()
    user = find_user(username)
    assert user is not None
    return user


# --- Length ---


def test_an_eleven_character_password_is_refused(client: FlaskClient) -> None:
    response = register(client, "kx7-vq2-mzp")

    body = assert_problem(response, 422)
    assert list(body["errors"]) == ["password"]
    assert "12" in body["errors"]["password"][0]
    assert_problem(login(client, "kx7-vq2-mzp"), 401)


def test_a_twelve_character_password_is_accepted(client: FlaskClient) -> None:
    assert register(client, "kx7-vq2-mzp4").status_code == 201

    assert login(client, "kx7-vq2-mzp4").status_code == 200


def test_a_128_character_password_is_accepted(client: FlaskClient) -> None:
    assert len(LONGEST) == 128

    assert register(client, LONGEST).status_code == 201

    assert login(client, LONGEST).status_code == 200


def test_a_129_character_password_is_refused_not_truncated(client: FlaskClient) -> None:
    response = register(client, LONGEST + "x")

    body = assert_problem(response, 422)
    assert "128" in body["errors"]["password"][0]
    assert_problem(login(client, LONGEST), 401)  # no account was made from its first 128


def test_length_is_counted_in_characters_not_bytes(client: FlaskClient) -> None:
    twelve_chars = "ж" * 6 + "ü" * 6  # 24 bytes in UTF-8

    assert register(client, twelve_chars).status_code == 201


@pytest.mark.parametrize(
    "wrong",
    [LONGEST[:127], LONGEST[:72], LONGEST[:64], LONGEST[:-1] + "X", LONGEST + "x"],
    ids=["first-127", "first-72", "first-64", "last-changed", "one-more"],
)
def test_a_long_password_logs_in_only_with_every_character(client: FlaskClient, wrong: str) -> None:
    register(client, LONGEST)

    response = login(client, wrong)

    assert response.status_code in {401, 422}
    assert "access_token" not in response.get_data(as_text=True)


# --- Blocklist ---


@pytest.mark.parametrize(
    "common",
    ["password1234", "Password1234", "qwerty123456", "QWERTY123456", "1q2w3e4r5t6y"],
)
def test_a_commonly_used_password_is_refused(client: FlaskClient, common: str) -> None:
    response = register(client, common)

    body = assert_problem(response, 422)
    assert "common" in " ".join(body["errors"]["password"]).lower()
    assert_problem(login(client, common), 401)


def test_there_are_no_composition_rules(client: FlaskClient) -> None:
    # NIST SP 800-63B: no required digits, capitals or symbols.
    assert register(client, "all lower case letters here").status_code == 201


@pytest.mark.parametrize(
    "password",
    [
        "correct horse 🐴 батарея staple",
        "  leading and trailing spaces  ",
        "日本語のパスワードですね",
    ],
    ids=["emoji-cyrillic", "spaces", "japanese"],
)
def test_unicode_and_spaces_are_accepted_and_kept_exactly(
    client: FlaskClient, password: str
) -> None:
    assert register(client, password).status_code == 201

    assert login(client, password).status_code == 200
    assert login(client, password.strip() + "?").status_code == 401


# --- Changing a password ---


def test_a_password_change_applies_the_same_policy(
    client: FlaskClient, alice: User, alice_headers: dict[str, str]
) -> None:
    for weak in ("short-pass1", "qwerty123456", LONGEST + "x"):
        response = client.put(
            "/auth/password",
            headers=alice_headers,
            json={"current_password": PASSWORD, "new_password": weak},
        )
        assert set(assert_problem(response, 422)["errors"]) == {"new_password"}

    assert login(client, PASSWORD, "alice").status_code == 200


def test_a_password_change_needs_the_current_password(
    client: FlaskClient, alice: User, alice_headers: dict[str, str]
) -> None:
    response = client.put(
        "/auth/password",
        headers=alice_headers,
        json={"current_password": "a wrong guess!", "new_password": "a brand new passphrase"},
    )

    assert set(assert_problem(response, 422)["errors"]) == {"current_password"}
    assert login(client, PASSWORD, "alice").status_code == 200
    assert login(client, "a brand new passphrase", "alice").status_code == 401


# --- Hashing ---


def test_the_stored_hash_uses_the_configured_method(app: Flask, client: FlaskClient) -> None:
    app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:2000"

    register(client, PASSWORD)

    stored = stored_user("carol").password_hash
    assert stored.startswith("pbkdf2:sha256:2000$")
    assert PASSWORD not in stored
    assert check_password_hash(stored, PASSWORD)


def test_two_users_with_the_same_password_get_different_hashes(client: FlaskClient) -> None:
    register(client, PASSWORD, "carol")
    register(client, PASSWORD, "dave")

    assert stored_user("carol").password_hash != stored_user("dave").password_hash


def test_no_response_ever_carries_the_hash(
    client: FlaskClient, alice: User, alice_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    responses = [
        register(client, PASSWORD),
        client.get("/auth/me", headers=alice_headers),
        client.get("/api/v1/admin/users", headers=admin_headers),
        client.get(f"/api/v1/admin/users/{alice.id}", headers=admin_headers),
    ]

    for response in responses:
        text = response.get_data(as_text=True)
        assert "password" not in text
        assert stored_user("alice").password_hash not in text


@pytest.fixture
def legacy_alice(app: Flask, alice: User) -> User:
    """Alice's hash made with another (older, cheaper) method than the configured one."""
    alice.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:500")
    db.session.commit()
    return alice


def test_a_hash_made_with_another_method_is_upgraded_at_the_next_login(
    app: Flask, client: FlaskClient, legacy_alice: User
) -> None:
    response = login(client, PASSWORD, "alice")

    assert response.status_code == 200
    upgraded = stored_user("alice").password_hash
    assert upgraded.startswith(app.config["PASSWORD_HASH_METHOD"] + "$")
    assert check_password_hash(upgraded, PASSWORD)
    assert login(client, PASSWORD, "alice").status_code == 200


def test_a_failed_login_does_not_touch_an_old_hash(client: FlaskClient, legacy_alice: User) -> None:
    before = stored_user("alice").password_hash

    assert login(client, "not the password", "alice").status_code == 401

    assert stored_user("alice").password_hash == before


def test_a_hash_made_with_the_configured_method_is_left_alone(
    client: FlaskClient, alice: User
) -> None:
    before = stored_user("alice").password_hash

    assert login(client, PASSWORD, "alice").status_code == 200

    assert stored_user("alice").password_hash == before


def test_changing_the_configured_method_upgrades_existing_users_on_login(
    app: Flask, client: FlaskClient, alice: User
) -> None:
    app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1500"

    tokens = login(client, PASSWORD, "alice").json

    assert stored_user("alice").password_hash.startswith("pbkdf2:sha256:1500$")
    assert client.get("/auth/me", headers=bearer(tokens["access_token"])).status_code == 200
