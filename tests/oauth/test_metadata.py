"""GET /.well-known/oauth-authorization-server (RFC 8414)."""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import rfc9207
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.oauth import METADATA

METHODS = ["client_secret_basic", "client_secret_post"]


def fetch(client: FlaskClient) -> dict[str, Any]:
    response = client.get(METADATA)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.json


def test_the_metadata_names_the_endpoints_grants_and_methods(client: FlaskClient) -> None:
    body = fetch(client)

    assert body["issuer"] == "myapi"
    assert body["authorization_endpoint"] == "http://localhost/oauth/authorize"
    assert body["token_endpoint"] == "http://localhost/oauth/token"
    assert body["revocation_endpoint"] == "http://localhost/oauth/revoke"
    assert body["introspection_endpoint"] == "http://localhost/oauth/introspect"
    assert body["jwks_uri"] == "http://localhost/.well-known/jwks.json"
    assert body["grant_types_supported"] == [
        "client_credentials", "authorization_code", "refresh_token"
    ]  # fmt: skip
    assert body["response_types_supported"] == ["code"]
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert body["authorization_response_iss_parameter_supported"] is True
    assert body["scopes_supported"] == [
        "notes:read", "users:read", "users:write", "introspect",
        "notes:write", "openid", "profile", "email",
    ]  # fmt: skip
    assert body["token_endpoint_auth_methods_supported"] == [*METHODS, "none"]
    assert body["revocation_endpoint_auth_methods_supported"] == [*METHODS, "none"]
    assert body["introspection_endpoint_auth_methods_supported"] == METHODS


def test_public_url_is_the_base_of_every_endpoint(app: Flask, client: FlaskClient) -> None:
    app.config["PUBLIC_URL"] = "https://api.example.com/v1"

    body = fetch(client)

    assert body["token_endpoint"] == "https://api.example.com/v1/oauth/token"
    assert body["revocation_endpoint"] == "https://api.example.com/v1/oauth/revoke"
    assert body["introspection_endpoint"] == "https://api.example.com/v1/oauth/introspect"
    assert body["jwks_uri"] == "https://api.example.com/v1/.well-known/jwks.json"


def test_the_host_header_never_reaches_the_metadata(app: Flask, client: FlaskClient) -> None:
    app.config["PUBLIC_URL"] = "https://api.example.com"

    response = client.get(
        METADATA, headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    )

    assert response.status_code == 200
    assert "evil.example" not in response.get_data(as_text=True)


def test_with_an_https_issuer_the_metadata_passes_authlibs_rfc_8414_validation(
    app: Flask, client: FlaskClient
) -> None:
    app.config["PUBLIC_URL"] = app.config["JWT_ISSUER"] = "https://api.example.com"
    body = fetch(client)

    AuthorizationServerMetadata(body).validate(
        metadata_classes=[rfc9207.AuthorizationServerMetadata]
    )
