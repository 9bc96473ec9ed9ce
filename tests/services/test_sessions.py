"""The session service called directly, where HTTP cannot reach: races between requests,
and the sessions the bench seeds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from myapi.models import User
from myapi.security.authentication import TokenRejected, authenticate
from myapi.services.sessions import Device, rotate, start_session
from tests.helpers.http import bearer, refresh


def test_a_refresh_that_loses_the_race_to_a_logout_gets_no_pair_from_the_grace_window(
    app: Flask, client: FlaskClient, alice: User, login: Callable[..., dict[str, Any]]
) -> None:
    first = login("alice")
    rotated = refresh(client, first["refresh_token"]).json
    # A retry of the rotated token, verified while the session was still live ...
    with app.test_request_context(headers=bearer(first["refresh_token"])):
        retry = authenticate(refresh=True)
    # ... reaches the rotation only after the user logged out.
    assert client.post("/auth/logout", headers=bearer(rotated["access_token"])).status_code == 204

    with app.test_request_context(), pytest.raises(TokenRejected):
        rotate(retry)


def test_a_session_started_for_an_account_begins_like_a_login(app: Flask, alice: User) -> None:
    pair = start_session(alice, "notes:read", Device("bench", "127.0.0.1"))

    claims = jwt.decode(pair.access_token, options={"verify_signature": False})
    assert claims["fresh"] is True
    assert claims["scope"] == pair.scope == "notes:read"
