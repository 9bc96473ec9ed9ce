"""Fixtures for the OAuth tests: the clients every test here uses."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.helpers.oauth import Credentials


@pytest.fixture
def reader(make_client: Callable[..., Credentials]) -> Credentials:
    """A client that may read notes and accounts."""
    return make_client("notes:read users:read")


@pytest.fixture
def introspector(make_client: Callable[..., Credentials]) -> Credentials:
    """A resource server's client, allowed to introspect tokens."""
    return make_client("introspect")
