"""OAuth test helpers: client credentials, endpoint paths and the RFC 6749 error check."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import jwt

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
