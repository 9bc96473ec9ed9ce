"""Fixtures for the signing-key tests: the shared `app`, switched to TOKEN_SIGNING=keys.

The shared fixture already runs each test on SQLite and on PostgreSQL+Redis; these
settings are read per request, so switching them on the built app is enough.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import Result
from flask import Flask

from myapi.services.signing_keys import generate_key
from tests.keys.helpers import ENCRYPTION_KEY


@pytest.fixture
def app(app: Flask) -> Flask:
    """Keys mode with one current ES256 key, as after a first `flask keys generate`."""
    app.config.update(
        TOKEN_SIGNING="keys",
        SIGNING_KEY_ALGORITHM="ES256",
        SIGNING_KEY_ENCRYPTION_KEYS=[ENCRYPTION_KEY],
    )
    generate_key()
    return app


@pytest.fixture
def keys_cli(app: Flask) -> Callable[..., Result]:
    """Run `flask keys ...` against the test app; returns click's result."""
    runner = app.test_cli_runner()

    def run(*args: str) -> Result:
        return runner.invoke(args=["keys", *args])

    return run
