"""Fixtures for the personal access token tests: making tokens, a movable clock, the logs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.personal_tokens.helpers import create_token


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
