"""What the auth tests send and observe: token claims, session rows, the denylist, stored hashes."""

from __future__ import annotations

from typing import Any

import jwt as pyjwt
from flask.testing import FlaskClient
from sqlalchemy import select

from myapi.extensions import db
from myapi.models import AuthSession, RevokedToken, User
from tests.helpers.http import PASSWORD, assert_problem, bearer

INVALID_TOKEN = "urn:myapi:problem:invalid-token"
INVALID_CREDENTIALS = "urn:myapi:problem:invalid-credentials"
UNAUTHENTICATED = "urn:myapi:problem:unauthenticated"
VALIDATION_ERROR = "urn:myapi:problem:validation-error"


def claims(token: str) -> dict[str, Any]:
    """The token's payload, read without verification (the server verifies; tests only look)."""
    return pyjwt.decode(token, options={"verify_signature": False})


def session_row(session_id: str) -> AuthSession | None:
    db.session.expire_all()
    return db.session.get(AuthSession, session_id)


def live_session_ids(user: User) -> set[str]:
    db.session.expire_all()
    return set(
        db.session.scalars(
            select(AuthSession.id).where(
                AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None)
            )
        )
    )


def is_denied(jti: str) -> bool:
    db.session.expire_all()
    return db.session.get(RevokedToken, jti) is not None


def stored_hash(user: User) -> str:
    db.session.expire_all()
    return db.session.get(User, user.id).password_hash


def post_login(client: FlaskClient, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post("/auth/login", json={"username": username, "password": password, **extra})


def me(client: FlaskClient, access_token: str) -> Any:
    return client.get("/auth/me", headers=bearer(access_token))


def challenge(response: Any) -> str:
    return response.headers.get("WWW-Authenticate", "")


def assert_invalid_token(response: Any) -> None:
    """A 401 problem of type invalid-token with the RFC 6750 `invalid_token` challenge."""
    body = assert_problem(response, 401)
    assert body["type"] == INVALID_TOKEN
    assert 'error="invalid_token"' in challenge(response)
