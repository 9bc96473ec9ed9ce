"""Keys mode: tokens are signed by the current key and name it; secret mode names no key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
import pytest
from click.testing import Result
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete

from myapi.extensions import db
from myapi.models import SigningKey, User
from myapi.security.key_ring import forget_key_ring
from tests.auth.observe import assert_invalid_token, claims, me, post_login
from tests.helpers.http import assert_problem, refresh
from tests.keys.observe import header, key_in


def use_algorithm(keys_cli: Callable[..., Result], algorithm: str) -> None:
    """Pre-publish a key of this algorithm and make it current, as an operator would."""
    assert keys_cli("generate", "--algorithm", algorithm).exit_code == 0
    assert keys_cli("rotate").exit_code == 0


@pytest.mark.parametrize("algorithm", ["ES256", "RS256", "EdDSA"])
def test_login_tokens_name_the_current_key_and_its_algorithm(
    client: FlaskClient,
    alice: User,
    login: Callable[..., dict[str, Any]],
    keys_cli: Callable[..., Result],
    algorithm: str,
) -> None:
    use_algorithm(keys_cli, algorithm)
    current = key_in("current")

    tokens = login("alice")

    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert header(token) == {"alg": algorithm, "kid": current.kid, "typ": "JWT"}
    assert me(client, tokens["access_token"]).json["username"] == "alice"


@pytest.mark.parametrize("algorithm", ["ES256", "RS256", "EdDSA"])
def test_refresh_and_its_grace_retry_give_the_same_claims(
    client: FlaskClient,
    alice: User,
    login: Callable[..., dict[str, Any]],
    keys_cli: Callable[..., Result],
    algorithm: str,
) -> None:
    use_algorithm(keys_cli, algorithm)
    first = login("alice")["refresh_token"]

    rotated = refresh(client, first).json
    retried = refresh(client, first).json

    assert claims(retried["access_token"]) == claims(rotated["access_token"])
    assert claims(retried["refresh_token"]) == claims(rotated["refresh_token"])
    assert me(client, retried["access_token"]).status_code == 200
    if algorithm != "ES256":  # ES256 signatures are randomized; RS256 and EdDSA are not
        assert retried["access_token"] == rotated["access_token"]
        assert retried["refresh_token"] == rotated["refresh_token"]
    # `expires_in` counts from each answer's own second.
    assert 0 <= rotated["expires_in"] - retried["expires_in"] <= 1


def test_without_a_current_key_login_is_a_503_problem(client: FlaskClient, alice: User) -> None:
    db.session.execute(delete(SigningKey))
    db.session.commit()
    forget_key_ring()

    response = post_login(client, "alice")

    body = assert_problem(response, 503)
    assert body["type"] == "urn:myapi:problem:signing-unavailable"
    assert "signing" in body["detail"]
    assert response.headers["Retry-After"] == "5"


def test_readiness_includes_signing_and_verifying_a_token(client: FlaskClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json["checks"]["signing"] == "ok"


def test_a_host_whose_current_key_cannot_be_decrypted_is_not_ready(
    app: Flask, client: FlaskClient
) -> None:
    # The tester's case: the encryption key list no longer opens the current key.
    app.config["SIGNING_KEY_ENCRYPTION_KEYS"] = [Fernet.generate_key().decode()]
    forget_key_ring()

    response = client.get("/readyz")

    body = assert_problem(response, 503)
    assert body["type"] == "urn:myapi:problem:not-ready"
    assert body["checks"]["signing"] == "unavailable"
    assert body["checks"]["database"] == "ok"


def test_a_host_without_a_current_key_is_not_ready(client: FlaskClient) -> None:
    db.session.execute(delete(SigningKey))
    db.session.commit()
    forget_key_ring()

    response = client.get("/readyz")

    assert assert_problem(response, 503)["checks"]["signing"] == "unavailable"


def test_a_token_signed_with_the_shared_secret_is_refused_in_keys_mode(
    app: Flask, client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    token = jwt.encode(
        claims(alice_tokens["access_token"]), app.config["JWT_SECRET_KEY"], algorithm="HS256"
    )

    assert_invalid_token(me(client, token))


def test_secret_mode_signs_hs256_without_a_kid_and_publishes_no_key(
    app: Flask, client: FlaskClient, alice: User, login: Callable[..., dict[str, Any]]
) -> None:
    app.config["TOKEN_SIGNING"] = "secret"

    tokens = login("alice")

    assert header(tokens["access_token"]) == {"alg": "HS256", "typ": "JWT"}
    assert me(client, tokens["access_token"]).status_code == 200
    assert client.get("/.well-known/jwks.json").json == {"keys": []}


@pytest.mark.parametrize("kid", ["myapi", "", "../../../../dev/null"])
def test_secret_mode_refuses_a_token_with_any_kid(
    app: Flask, client: FlaskClient, alice: User, login: Callable[..., dict[str, Any]], kid: str
) -> None:
    app.config["TOKEN_SIGNING"] = "secret"
    genuine = claims(login("alice")["access_token"])

    token = jwt.encode(
        genuine, app.config["JWT_SECRET_KEY"], algorithm="HS256", headers={"kid": kid}
    )

    assert_invalid_token(me(client, token))
