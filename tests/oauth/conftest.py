"""Fixtures for the OAuth tests: clients made through `myapi.clients`, tokens over HTTP."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from myapi.clients import create_client
from myapi.extensions import db
from myapi.models import OAuthClient
from myapi.security.tokens import sign_token

TOKEN = "/oauth/token"
REVOKE = "/oauth/revoke"
INTROSPECT = "/oauth/introspect"
METADATA = "/.well-known/oauth-authorization-server"


@dataclass(frozen=True)
class Credentials:
    client_id: str
    secret: str

    @property
    def basic(self) -> dict[str, str]:
        return basic(self.client_id, self.secret)

    @property
    def form(self) -> dict[str, str]:
        return {"client_id": self.client_id, "client_secret": self.secret}


def basic(user: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


@pytest.fixture
def make_client(app: Flask) -> Callable[..., Credentials]:
    """Register an OAuth client through the service; returns its id and secret."""

    def make(scope: str = "notes:read users:read", **options: Any) -> Credentials:
        client, secret = create_client("reporting", scope, **options)
        return Credentials(client.client_id, secret)

    return make


@pytest.fixture
def reader(make_client: Callable[..., Credentials]) -> Credentials:
    """A client that may read notes and accounts."""
    return make_client("notes:read users:read")


@pytest.fixture
def introspector(make_client: Callable[..., Credentials]) -> Credentials:
    """A resource server's client, allowed to introspect tokens."""
    return make_client("introspect")


@pytest.fixture
def get_token(client: FlaskClient) -> Callable[..., Any]:
    """POST /oauth/token with client_secret_basic; `form` adds or overrides parameters."""

    def request_token(credentials: Credentials, **form: str) -> Any:
        data = {"grant_type": "client_credentials", **form}
        return client.post(TOKEN, data=data, headers=credentials.basic)

    return request_token


@pytest.fixture
def client_token(get_token: Callable[..., Any]) -> Callable[..., str]:
    """An access token for the client (asserting it was issued)."""

    def issue(credentials: Credentials, **form: str) -> str:
        response = get_token(credentials, **form)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json["access_token"]

    return issue


def expired_copy(token: str) -> str:
    """The same token, validly signed, but expired half an hour ago."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return sign_token(claims | {"iat": claims["iat"] - 3600, "exp": claims["iat"] - 1800})


def stored_client(client_id: str) -> OAuthClient | None:
    """The client as the database has it now."""
    db.session.expire_all()
    return db.session.get(OAuthClient, client_id)


def assert_oauth_error(response: Any, status: int, error: str) -> dict[str, Any]:
    """An RFC 6749 5.2 error: this status, JSON with exactly `error` and a description."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert set(response.json) == {"error", "error_description"}
    assert response.json["error"] == error
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    if status == 401 and error == "invalid_client":
        assert response.headers["WWW-Authenticate"] == 'Basic realm="myapi"'
    return response.json
