"""Fixtures for the personal access token tests: making tokens, a movable clock, the logs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from myapi.clock import utcnow
from myapi.extensions import db
from myapi.models import PersonalAccessToken
from myapi.security import personal_tokens
from myapi.services import personal_tokens as personal_token_service
from tests.conftest import assert_problem

INVALID_TOKEN = "urn:myapi:problem:invalid-token"
FRESH_LOGIN_REQUIRED = "urn:myapi:problem:fresh-login-required"
INSUFFICIENT_SCOPE = "urn:myapi:problem:insufficient-scope"


def assert_invalid_token(response: Any) -> None:
    """A 401 invalid-token problem with exactly the standard RFC 6750 challenge."""
    body = assert_problem(response, 401)
    assert body["type"] == INVALID_TOKEN
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="myapi", error="invalid_token"'


def create_token(client: FlaskClient, headers: dict[str, str], **body: Any) -> Any:
    """POST /auth/tokens with a name and scope unless the test gives its own."""
    return client.post(
        "/auth/tokens",
        headers=headers,
        json={"name": "backup script", "scope": "notes:read"} | body,
    )


@pytest.fixture
def make_pat(client: FlaskClient) -> Callable[..., dict[str, Any]]:
    """Create a PAT over HTTP with the given (fresh) login headers; returns the 201 body."""

    def make(headers: dict[str, str], **body: Any) -> dict[str, Any]:
        response = create_token(client, headers, **body)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.json

    return make


@pytest.fixture
def alice_pat(make_pat: Callable[..., dict[str, Any]], alice_headers: dict[str, str]) -> str:
    """A PAT of alice's with both note scopes."""
    return make_pat(alice_headers, scope="notes:read notes:write")["token"]


def token_row(token_id: int) -> PersonalAccessToken | None:
    db.session.expire_all()
    return db.session.get(PersonalAccessToken, token_id)


class Clock:
    """The personal-token module's clock, which tests move forward."""

    def __init__(self) -> None:
        self.now: datetime = utcnow()

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Freeze the time personal tokens are judged and used by; the rest keeps real time."""
    frozen = Clock()
    monkeypatch.setattr(personal_tokens, "utcnow", lambda: frozen.now)
    monkeypatch.setattr(personal_token_service, "utcnow", lambda: frozen.now)
    return frozen
