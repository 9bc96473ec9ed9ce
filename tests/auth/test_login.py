"""POST /auth/login: a new session and a fresh token pair, or one uniform refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import myapi.security.passwords
from myapi.models import User
from myapi.services.accounts import set_active
from tests.auth.observe import (
    INVALID_CREDENTIALS,
    VALIDATION_ERROR,
    challenge,
    claims,
    live_session_ids,
    post_login,
    session_row,
    stored_hash,
)
from tests.helpers.http import PASSWORD, assert_problem, bearer

PAIR_FIELDS = {"access_token", "refresh_token", "token_type", "expires_in", "scope"}


def test_login_returns_a_bearer_token_pair_with_the_roles_scopes(
    client: FlaskClient, alice: User
) -> None:
    response = post_login(client, "alice")

    assert response.status_code == 200
    body = response.json
    assert set(body) == PAIR_FIELDS
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "notes:read notes:write"
    assert 0 < body["expires_in"] <= 15 * 60


def test_login_response_must_not_be_cached(client: FlaskClient, alice: User) -> None:
    response = post_login(client, "alice")

    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


def test_login_tokens_carry_every_claim_of_one_new_session(
    app: Flask, client: FlaskClient, alice: User
) -> None:
    body = post_login(client, "alice").json

    access, refresh = claims(body["access_token"]), claims(body["refresh_token"])
    assert access["sub"] == refresh["sub"] == str(alice.id)
    assert access["type"] == "access"
    assert refresh["type"] == "refresh"
    for token in (access, refresh):
        assert token["iss"] == "myapi"
        assert token["aud"] == "myapi"
        assert token["scope"] == "notes:read notes:write"
        assert token["nbf"] == token["iat"]
    assert access["fresh"] is True
    assert refresh["fresh"] is False
    assert access["sid"] == refresh["sid"]
    assert access["jti"] != refresh["jti"]
    assert access["exp"] - access["iat"] == app.config["ACCESS_TOKEN_MINUTES"] * 60
    days = min(app.config["REFRESH_TOKEN_DAYS"], app.config["SESSION_IDLE_DAYS"])
    assert refresh["exp"] - refresh["iat"] == days * 86400
    session = session_row(access["sid"])
    assert session.user_id == alice.id
    assert session.access_jti == access["jti"]
    assert session.refresh_jti == refresh["jti"]
    assert session.revoked_at is None


def test_each_login_starts_its_own_session(client: FlaskClient, alice: User) -> None:
    first = claims(post_login(client, "alice").json["access_token"])
    second = claims(post_login(client, "alice").json["access_token"])

    assert first["sid"] != second["sid"]
    assert live_session_ids(alice) == {first["sid"], second["sid"]}


@pytest.mark.parametrize(
    "identifier", ["alice", "ALICE", " Alice ", "alice@example.com", "Alice@Example.COM"]
)
def test_login_accepts_the_username_or_email_in_any_case(
    client: FlaskClient, alice: User, identifier: str
) -> None:
    response = post_login(client, identifier)

    assert response.status_code == 200
    assert claims(response.json["access_token"])["sub"] == str(alice.id)


def _failed_login_answer(response: Any) -> tuple[int, str, dict[str, Any], str]:
    body = assert_problem(response, 401)
    return response.status_code, response.mimetype, body, challenge(response)


def test_unknown_user_wrong_password_and_disabled_account_get_the_same_answer(
    client: FlaskClient, alice: User, make_user: Callable[..., User]
) -> None:
    carol = make_user("carol")
    set_active(carol, False)

    unknown = post_login(client, "nobody")
    wrong = post_login(client, "alice", "not the right password")
    disabled = post_login(client, "carol")

    answers = [_failed_login_answer(r) for r in (unknown, wrong, disabled)]
    assert answers[0] == answers[1] == answers[2]
    _, _, body, www_authenticate = answers[0]
    assert body["type"] == INVALID_CREDENTIALS
    assert www_authenticate == 'Bearer realm="myapi"'
    assert live_session_ids(alice) == set()
    assert live_session_ids(carol) == set()


def test_login_for_an_unknown_user_still_checks_the_password_against_a_dummy_hash(
    app: Flask, client: FlaskClient, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_check = myapi.security.passwords.check_password_hash
    calls: list[tuple[str, str]] = []

    def spy(pwhash: str, password: str) -> bool:
        calls.append((pwhash, password))
        return real_check(pwhash, password)

    monkeypatch.setattr(myapi.security.passwords, "check_password_hash", spy)

    response = post_login(client, "nobody", PASSWORD)

    assert_problem(response, 401)
    assert len(calls) == 1
    dummy_hash, password = calls[0]
    assert password == PASSWORD
    assert dummy_hash.startswith(app.config["PASSWORD_HASH_METHOD"] + "$")
    assert dummy_hash != alice.password_hash


def test_login_for_a_known_user_checks_the_password_once_against_the_stored_hash(
    client: FlaskClient, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_check = myapi.security.passwords.check_password_hash
    calls: list[str] = []

    def spy(pwhash: str, password: str) -> bool:
        calls.append(pwhash)
        return real_check(pwhash, password)

    monkeypatch.setattr(myapi.security.passwords, "check_password_hash", spy)

    assert_problem(post_login(client, "alice", "not the right password"), 401)

    assert calls == [alice.password_hash]


def test_login_may_ask_for_fewer_scopes(client: FlaskClient, alice: User) -> None:
    response = post_login(client, "alice", scope="notes:read")

    assert response.status_code == 200
    assert response.json["scope"] == "notes:read"
    access_token = response.json["access_token"]
    assert claims(access_token)["scope"] == "notes:read"
    assert client.get("/api/v1/notes", headers=bearer(access_token)).status_code == 200
    write = client.post("/api/v1/notes", json={"title": "t"}, headers=bearer(access_token))
    assert_problem(write, 403)


def test_login_never_grants_more_than_the_role_allows(client: FlaskClient, alice: User) -> None:
    response = post_login(client, "alice", scope="notes:read users:read users:write")

    assert response.status_code == 200
    assert response.json["scope"] == "notes:read"
    assert claims(response.json["refresh_token"])["scope"] == "notes:read"


def test_admin_may_ask_for_admin_scopes(client: FlaskClient, admin: User) -> None:
    response = post_login(client, "root", scope="users:read")

    assert response.status_code == 200
    assert response.json["scope"] == "users:read"


def test_login_without_scope_grants_everything_the_role_allows(
    client: FlaskClient, admin: User
) -> None:
    response = post_login(client, "root")

    assert response.json["scope"] == "notes:read notes:write users:read users:write"


def test_login_refuses_when_no_requested_scope_can_be_granted(
    client: FlaskClient, alice: User
) -> None:
    response = post_login(client, "alice", scope="users:read users:write")

    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"scope"}
    assert live_session_ids(alice) == set()


def test_login_refuses_unknown_scope_names(client: FlaskClient, alice: User) -> None:
    response = post_login(client, "alice", scope="notes:read notes:delete")

    body = assert_problem(response, 422)
    assert body["type"] == VALIDATION_ERROR
    assert "one or more of notes:read, notes:write" in " ".join(body["errors"]["scope"])
    assert live_session_ids(alice) == set()


def test_login_refuses_missing_and_unknown_fields(client: FlaskClient, alice: User) -> None:
    response = client.post("/auth/login", json={"username": "alice", "role": "admin"})

    body = assert_problem(response, 422)
    assert {"password", "role"} <= set(body["errors"])


def test_a_weaker_password_hash_is_upgraded_at_the_next_successful_login(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    target = app.config["PASSWORD_HASH_METHOD"]
    app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:500"
    alice = make_user("alice")
    app.config["PASSWORD_HASH_METHOD"] = target
    assert stored_hash(alice).startswith("pbkdf2:sha256:500$")

    assert post_login(client, "alice").status_code == 200

    assert stored_hash(alice).startswith(target + "$")
    assert post_login(client, "alice").status_code == 200


def test_a_failed_login_does_not_upgrade_the_hash(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    target = app.config["PASSWORD_HASH_METHOD"]
    app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:500"
    alice = make_user("alice")
    weak_hash = stored_hash(alice)
    app.config["PASSWORD_HASH_METHOD"] = target

    assert_problem(post_login(client, "alice", "not the right password"), 401)

    assert stored_hash(alice) == weak_hash


@pytest.mark.parametrize(
    "method",
    [None, "scrypt"],
    ids=["testing-default", "werkzeug-default-spelled-short"],
)
def test_a_hash_made_with_the_configured_method_is_left_alone(
    app: Flask, client: FlaskClient, make_user: Callable[..., User], method: str | None
) -> None:
    if method is not None:
        app.config["PASSWORD_HASH_METHOD"] = method
    alice = make_user("alice")
    before = stored_hash(alice)

    assert post_login(client, "alice").status_code == 200

    assert stored_hash(alice) == before


def test_alternating_username_and_email_shares_one_per_account_login_limit(
    app: Flask, client: FlaskClient, alice: User
) -> None:
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "4 per minute"
    identifiers = ["alice", "alice@example.com", "ALICE", "Alice@Example.com"]

    failures = [
        client.post("/auth/login", json={"username": name, "password": "wrong password!"})
        for name in identifiers
    ]
    fifth = client.post("/auth/login", json={"username": "alice@example.com", "password": PASSWORD})

    assert [response.status_code for response in failures] == [401] * 4
    assert_problem(fifth, 429)


def test_a_login_name_with_a_nul_is_a_validation_error_on_every_database(
    client: FlaskClient, alice: User
) -> None:
    response = client.post("/auth/login", json={"username": "ali\x00ce", "password": PASSWORD})

    body = assert_problem(response, 422)
    assert "username" in body["errors"]
