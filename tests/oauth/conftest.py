"""Fixtures for the OAuth tests: the clients every test here uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from myapi.models import User
from tests.helpers.authorization import (
    APP_REDIRECT,
    NATIVE_REDIRECT,
    authorize_and_allow,
    authorize_query,
    new_pkce,
)
from tests.helpers.oauth import TOKEN, Credentials


@pytest.fixture
def reader(make_client: Callable[..., Credentials]) -> Credentials:
    """A client that may read notes and accounts."""
    return make_client("notes:read users:read")


@pytest.fixture
def introspector(make_client: Callable[..., Credentials]) -> Credentials:
    """A resource server's client, allowed to introspect tokens."""
    return make_client("introspect")


@pytest.fixture
def web_app(make_client: Callable[..., Credentials]) -> Credentials:
    """A confidential third-party web app that may ask users for their notes."""
    return make_client(
        "notes:read notes:write", grants=("authorization_code",), redirect_uris=(APP_REDIRECT,)
    )


@pytest.fixture
def native_app(make_client: Callable[..., Credentials]) -> Credentials:
    """A public native app (no secret) redirecting to loopback on any port."""
    return make_client(
        "notes:read",
        client_type="public",
        grants=("authorization_code",),
        redirect_uris=(NATIVE_REDIRECT, APP_REDIRECT),
    )


@pytest.fixture
def exchange(client: FlaskClient) -> Callable[..., Any]:
    """POST the token endpoint's authorization_code grant; `form` adds or overrides fields."""

    def post(app: Credentials, code: str, verifier: str | None, **form: str) -> Any:
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": APP_REDIRECT}
        if verifier is not None:
            data["code_verifier"] = verifier
        headers = app.basic if app.secret else {}
        if not app.secret:
            data["client_id"] = app.client_id
        return client.post(TOKEN, data=data | form, headers=headers)

    return post


@pytest.fixture
def app_tokens(
    client: FlaskClient, alice: User, web_app: Credentials, exchange: Callable[..., Any]
) -> dict[str, Any]:
    """Alice let the web app read and write her notes; the app's token response."""
    pkce = new_pkce()
    code = authorize_and_allow(
        client, authorize_query(web_app.client_id, pkce, scope="notes:read notes:write")
    )["code"]
    response = exchange(web_app, code, pkce.verifier)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json
