"""Production refuses keys mode without valid SIGNING_KEY_ENCRYPTION_KEYS, saying why."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from cryptography.fernet import Fernet

from myapi import create_app
from myapi.config import ConfigError, Production

VALID = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "FLASK_DEBUG",
        "PASSWORD_HASH_METHOD",
        "TOKEN_SIGNING",
        "SIGNING_KEY_ENCRYPTION_KEYS",
    ):
        monkeypatch.delenv(name, raising=False)


def production_in_keys_mode(**overrides: Any) -> Production:
    return Production(
        SQLALCHEMY_DATABASE_URI="sqlite://",
        JWT_SECRET_KEY=secrets.token_hex(32),
        PUBLIC_URL="https://api.example.com",
        TOKEN_SIGNING="keys",
        **overrides,
    )


def test_keys_mode_with_valid_encryption_keys_starts() -> None:
    app = create_app(production_in_keys_mode(SIGNING_KEY_ENCRYPTION_KEYS=[VALID, VALID]))

    assert app.config["TOKEN_SIGNING"] == "keys"


@pytest.mark.parametrize(
    ("configured", "reason"),
    [
        ([], "SIGNING_KEY_ENCRYPTION_KEYS is not set: TOKEN_SIGNING=keys needs a Fernet key"),
        (
            [VALID, "too-short-to-be-a-key"],
            "SIGNING_KEY_ENCRYPTION_KEYS entry 2 is not a Fernet key",
        ),
    ],
)
def test_keys_mode_refuses_missing_or_invalid_encryption_keys(
    configured: list[str], reason: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        create_app(production_in_keys_mode(SIGNING_KEY_ENCRYPTION_KEYS=configured))

    assert reason in str(refused.value)
    assert "too-short-to-be-a-key" not in str(refused.value)


def test_secret_mode_needs_no_encryption_key() -> None:
    app = create_app(
        Production(
            SQLALCHEMY_DATABASE_URI="sqlite://",
            JWT_SECRET_KEY=secrets.token_hex(32),
            PUBLIC_URL="https://api.example.com",
        )
    )

    assert app.config["SIGNING_KEY_ENCRYPTION_KEYS"] == []
