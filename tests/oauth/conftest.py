"""Fixtures for the OAuth tests: the clients every test here uses (a third-party web app and
its tokens are in tests/conftest.py, for the tests of other features that end them)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.helpers.authorization import APP_REDIRECT, NATIVE_REDIRECT
from tests.helpers.oauth import Credentials


@pytest.fixture
def reader(make_client: Callable[..., Credentials]) -> Credentials:
    """A client that may read notes and accounts."""
    return make_client("notes:read users:read")


@pytest.fixture
def introspector(make_client: Callable[..., Credentials]) -> Credentials:
    """A resource server's client, allowed to introspect tokens."""
    return make_client("introspect")


@pytest.fixture
def native_app(make_client: Callable[..., Credentials]) -> Credentials:
    """A public native app (no secret) redirecting to loopback on any port."""
    return make_client(
        "notes:read",
        client_type="public",
        grants=("authorization_code",),
        redirect_uris=(NATIVE_REDIRECT, APP_REDIRECT),
    )
