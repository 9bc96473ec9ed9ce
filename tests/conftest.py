"""Fixtures: an app on in-memory SQLite, users made by the service, tokens from a real login."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import Testing
from myapi import create_app
from myapi.accounts import create_user
from myapi.extensions import db
from myapi.models import User

PASSWORD = "correct horse battery staple"


@pytest.fixture
def app() -> Iterator[Flask]:
    app = create_app(Testing())
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    """Create an account directly through the service (no rate limit, no HTTP)."""

    def make(username: str, *, role: str = "user", password: str = PASSWORD) -> User:
        return create_user(username, f"{username}@example.com", password, role=role)

    return make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def login(client: FlaskClient) -> Callable[..., dict[str, Any]]:
    """Log in over HTTP and return the token response body."""

    def do_login(username: str, password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
        response = client.post(
            "/auth/login", json={"username": username, "password": password, **extra}
        )
        assert response.status_code == 200, response.json
        return response.json

    return do_login


@pytest.fixture
def alice(make_user: Callable[..., User]) -> User:
    return make_user("alice")


@pytest.fixture
def bob(make_user: Callable[..., User]) -> User:
    return make_user("bob")


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user("root", role="admin")


@pytest.fixture
def alice_tokens(alice: User, login: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return login("alice")


@pytest.fixture
def alice_headers(alice_tokens: dict[str, Any]) -> dict[str, str]:
    return bearer(alice_tokens["access_token"])


@pytest.fixture
def bob_headers(bob: User, login: Callable[..., dict[str, Any]]) -> dict[str, str]:
    return bearer(login("bob")["access_token"])


@pytest.fixture
def admin_headers(admin: User, login: Callable[..., dict[str, Any]]) -> dict[str, str]:
    return bearer(login("root")["access_token"])


def refresh(client: FlaskClient, refresh_token: str) -> Any:
    return client.post("/auth/refresh", headers=bearer(refresh_token))


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["status"] == status
    assert {"type", "title", "detail"} <= set(body)
    return body
