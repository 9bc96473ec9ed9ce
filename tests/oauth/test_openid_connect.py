"""OpenID Connect: sign-in with an ID token, UserInfo and discovery, in keys mode."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from myapi.models import User
from myapi.services.signing_keys import generate_key
from tests.helpers.authorization import (
    APP_REDIRECT,
    authorize_and_allow,
    authorize_query,
    new_pkce,
    redirect_params,
)
from tests.helpers.clock import Clock
from tests.helpers.http import assert_problem, bearer
from tests.helpers.oauth import Credentials
from tests.keys.helpers import ENCRYPTION_KEY


@pytest.fixture(params=["ES256", "RS256", "EdDSA"])
def signing_algorithm(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def app(app: Flask, signing_algorithm: str) -> Flask:
    """Keys mode with one current key of each algorithm in turn."""
    app.config.update(
        TOKEN_SIGNING="keys",
        SIGNING_KEY_ALGORITHM=signing_algorithm,
        SIGNING_KEY_ENCRYPTION_KEYS=[ENCRYPTION_KEY],
    )
    generate_key()
    return app


@pytest.fixture
def sign_in_app(make_client: Callable[..., Credentials]) -> Credentials:
    return make_client(
        "openid profile email notes:read",
        grants=("authorization_code",),
        redirect_uris=(APP_REDIRECT,),
    )


@pytest.fixture
def signed_in(
    client: FlaskClient,
    alice: User,
    sign_in_app: Credentials,
    exchange: Callable[..., Any],
) -> dict[str, Any]:
    """Alice signed in to the app with openid, profile and email; the token response."""
    pkce = new_pkce()
    url = authorize_query(
        sign_in_app.client_id, pkce, scope="openid profile email", nonce="n-0S6_WzA2Mj"
    )
    code = authorize_and_allow(client, url)["code"]
    response = exchange(sign_in_app, code, pkce.verifier)
    assert response.status_code == 200, response.json
    return response.json


def verify_as_a_client_would(client: FlaskClient, id_token: str, audience: str) -> dict[str, Any]:
    """PyJWT with the published JWKS: the key the header names, its algorithm, iss and aud."""
    keys = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json)
    kid = jwt.get_unverified_header(id_token)["kid"]
    key = next(key for key in keys.keys if key.key_id == kid)
    return jwt.decode(
        id_token,
        key,
        algorithms=[key.algorithm_name],
        audience=audience,
        issuer="myapi",
        options={"require": ["iss", "sub", "aud", "exp", "iat", "auth_time"]},
    )


def half_hash(token: str, algorithm: str) -> str:
    digest = (hashlib.sha512 if algorithm == "EdDSA" else hashlib.sha256)(token.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def test_the_id_token_verifies_with_the_jwks_and_carries_the_claims(
    client: FlaskClient,
    alice: User,
    sign_in_app: Credentials,
    signed_in: dict[str, Any],
    app: Flask,
) -> None:
    claims = verify_as_a_client_would(client, signed_in["id_token"], sign_in_app.client_id)

    assert claims["sub"] == str(alice.id)
    assert claims["aud"] == sign_in_app.client_id
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["exp"] > claims["iat"] >= claims["auth_time"]
    algorithm = app.config["SIGNING_KEY_ALGORITHM"]
    assert claims["at_hash"].rstrip("=") == half_hash(signed_in["access_token"], algorithm)
    assert claims["preferred_username"] == "alice"
    assert claims["email"] == "alice@example.com"


def test_the_id_token_is_not_an_access_token(
    client: FlaskClient, signed_in: dict[str, Any]
) -> None:
    response = client.get("/api/v1/notes", headers=bearer(signed_in["id_token"]))

    assert response.status_code == 401


def test_without_openid_there_is_no_id_token(
    client: FlaskClient, alice: User, sign_in_app: Credentials, exchange: Callable[..., Any]
) -> None:
    pkce = new_pkce()
    code = authorize_and_allow(client, authorize_query(sign_in_app.client_id, pkce))["code"]

    assert "id_token" not in exchange(sign_in_app, code, pkce.verifier).json


def test_auth_time_is_when_the_user_typed_the_password(
    client: FlaskClient,
    clock: Clock,
    alice: User,
    sign_in_app: Credentials,
    exchange: Callable[..., Any],
) -> None:
    authorize_and_allow(client, authorize_query(sign_in_app.client_id, new_pkce(), scope="openid"))
    signed_in_at = int(clock.now.timestamp())
    clock.advance(seconds=120)
    pkce = new_pkce()

    code = redirect_params(
        client.get(authorize_query(sign_in_app.client_id, pkce, scope="openid"))
    )["code"]
    id_token = exchange(sign_in_app, code, pkce.verifier).json["id_token"]

    assert jwt.decode(id_token, options={"verify_signature": False})["auth_time"] == signed_in_at


def test_a_nonce_used_before_is_refused(
    client: FlaskClient, signed_in: dict[str, Any], sign_in_app: Credentials
) -> None:
    url = authorize_query(sign_in_app.client_id, new_pkce(), scope="openid", nonce="n-0S6_WzA2Mj")

    assert redirect_params(client.get(url))["error"] == "invalid_request"


def test_userinfo_answers_what_the_scopes_allow(
    client: FlaskClient, alice: User, signed_in: dict[str, Any]
) -> None:
    response = client.get("/oauth/userinfo", headers=bearer(signed_in["access_token"]))

    assert response.status_code == 200
    assert response.json == {
        "sub": str(alice.id), "preferred_username": "alice", "email": "alice@example.com"
    }  # fmt: skip


def test_userinfo_needs_the_openid_scope(
    client: FlaskClient, alice_headers: dict[str, str]
) -> None:
    assert_problem(client.get("/oauth/userinfo", headers=alice_headers), 403)


def test_discovery_names_the_endpoints_and_the_signing_algorithms(client: FlaskClient) -> None:
    body = client.get("/.well-known/openid-configuration").json

    assert body["issuer"] == "myapi"
    assert body["authorization_endpoint"] == "http://localhost/oauth/authorize"
    assert body["userinfo_endpoint"] == "http://localhost/oauth/userinfo"
    assert body["jwks_uri"] == "http://localhost/.well-known/jwks.json"
    assert body["response_types_supported"] == ["code"]
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert "openid" in body["scopes_supported"]
