"""Helpers of the personal-token tests: tokens made over HTTP, their rows, a movable clock."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from myapi.extensions import db
from myapi.models import PersonalAccessToken
from tests.helpers.http import assert_problem

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


def token_row(token_id: int) -> PersonalAccessToken | None:
    db.session.expire_all()
    return db.session.get(PersonalAccessToken, token_id)
