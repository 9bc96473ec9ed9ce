"""Fixtures for the personal access token tests: making tokens, a movable clock, the logs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from myapi.security import personal_tokens
from myapi.services import personal_tokens as personal_token_service
from tests.personal_tokens.helpers import Clock, create_token


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


@pytest.fixture
def clock(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Freeze the time personal tokens are judged and used by; the rest keeps real time."""
    frozen = Clock()
    monkeypatch.setattr(personal_tokens, "utcnow", lambda: frozen.now)
    monkeypatch.setattr(personal_token_service, "utcnow", lambda: frozen.now)
    return frozen
