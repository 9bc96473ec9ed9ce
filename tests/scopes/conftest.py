"""Fixtures for the scope rule: the shared `app`, in both signing modes."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from flask import Flask

from myapi.services.signing_keys import generate_key


@pytest.fixture(params=["secret", "keys"])
def signing(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def app(app: Flask, signing: str) -> Flask:
    """Every scope test runs with the shared secret and with an ES256 signing key."""
    if signing == "keys":
        app.config.update(
            TOKEN_SIGNING="keys",
            SIGNING_KEY_ALGORITHM="ES256",
            SIGNING_KEY_ENCRYPTION_KEYS=[Fernet.generate_key().decode()],
        )
        generate_key()
    return app
