"""Fixtures for the signing-key tests: the shared `app`, switched to TOKEN_SIGNING=keys.

The shared fixture already runs each test on SQLite and on PostgreSQL+Redis; these
settings are read per request, so switching them on the built app is enough.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from cryptography.fernet import Fernet
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


@pytest.fixture
def service_env(tmp_path: Path) -> dict[str, str]:
    """Production settings in keys mode for a live service on a file database; every value
    explicit so no .env leaks in."""
    return {
        "MYAPI_CONFIG": "production",
        "FLASK_DEBUG": "false",
        "JWT_SECRET_KEY": secrets.token_hex(32),
        "JWT_ISSUER": "myapi",
        "JWT_AUDIENCE": "myapi",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'service.db'}",
        "REDIS_URL": "",
        "RATELIMIT_STORAGE_URI": "memory://",
        "HTTPS_ONLY": "false",
        "PUBLIC_URL": "http://127.0.0.1",
        "TOKEN_SIGNING": "keys",
        "SIGNING_KEY_ALGORITHM": "ES256",
        "SIGNING_KEY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        # Short, so the verifier's JWKS cache lifetime (max-age) suits the test's patience.
        "KEY_SET_REFRESH_SECONDS": "1",
        "LOGIN_LIMIT_PER_IP": "1000 per minute",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "2",
    }
