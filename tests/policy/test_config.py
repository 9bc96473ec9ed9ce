"""Configuration: Production refuses unsafe settings, saying why; the environment selects."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import pytest
from werkzeug.security import generate_password_hash

from myapi import config, create_app
from myapi.config import ConfigError, Production, select_config
from myapi.library_settings import library_settings
from myapi.security.passwords import meets_owasp_minimum
from myapi.security.secret_strength import weak_secrets

STRONG_SECRET = secrets.token_hex(32)
ENVIRONMENT = (
    "MYAPI_CONFIG",
    "JWT_SECRET_KEY",
    "FLASK_DEBUG",
    "PASSWORD_HASH_METHOD",
    "ACCESS_TOKEN_MINUTES",
    "CORS_ORIGINS",
    "RATELIMIT_ENABLED",
    "DATABASE_URL",
    "REDIS_URL",
    "LOG_LEVEL",
    "PUBLIC_URL",
    "HTTPS_ONLY",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing from the developer's shell or .env leaks into these tests."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


def production(**overrides: Any) -> Production:
    # An in-memory database, so building the app touches no file.
    defaults = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "PUBLIC_URL": "https://api.example.com"}
    return Production(**defaults | overrides)


def refusal(**overrides: Any) -> str:
    with pytest.raises(ConfigError) as raised:
        create_app(production(**overrides))
    return str(raised.value)


def test_production_with_a_strong_secret_starts() -> None:
    app = create_app(production(JWT_SECRET_KEY=STRONG_SECRET))

    assert app.config["JWT_SECRET_KEY"] == STRONG_SECRET
    assert not app.debug


def test_production_reads_the_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET_KEY", STRONG_SECRET)

    app = create_app(production())

    assert app.config["JWT_SECRET_KEY"] == STRONG_SECRET


def test_production_without_a_secret_refuses_to_start() -> None:
    message = refusal()

    assert "JWT_SECRET_KEY is not set" in message


def test_production_never_invents_a_random_secret() -> None:
    # A per-process random key would split a multi-worker deployment; refuse instead.
    assert production().JWT_SECRET_KEY == ""


@pytest.mark.parametrize("secret", ["change-me", "secret", "super-secret", "your-secret-key"])
def test_production_refuses_a_secret_from_the_documentation(secret: str) -> None:
    assert secret in weak_secrets()
    assert "example value" in refusal(JWT_SECRET_KEY=secret)


@pytest.mark.parametrize("secret", ["CHANGE-ME", "  secret  ", "Super-Secret"])
def test_an_example_secret_is_recognised_whatever_its_case_or_padding(secret: str) -> None:
    assert "example value" in refusal(JWT_SECRET_KEY=secret)


@pytest.mark.parametrize("secret", ["a1B2c3D4e5F6g7H8", secrets.token_hex(15) + "x"])
def test_production_refuses_a_short_secret(secret: str) -> None:
    assert len(secret.encode()) < 32

    assert "shorter than 32 bytes" in refusal(JWT_SECRET_KEY=secret)


@pytest.mark.parametrize("secret", ["a" * 64, "ab" * 32, "abcdefghi" * 4])
def test_production_refuses_a_secret_with_too_little_variety(secret: str) -> None:
    message = refusal(JWT_SECRET_KEY=secret)

    assert "not random" in message or "distinct characters" in message


def test_production_refuses_debug() -> None:
    assert "DEBUG is on" in refusal(JWT_SECRET_KEY=STRONG_SECRET, DEBUG=True)


def test_production_refuses_debug_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_DEBUG", "1")

    assert "DEBUG is on" in refusal(JWT_SECRET_KEY=STRONG_SECRET)


@pytest.mark.parametrize(
    "method", ["scrypt:32768:8:1", "scrypt", "pbkdf2:sha256:1000", "pbkdf2:sha256:599999", "md5"]
)
def test_production_refuses_a_weak_password_hash_method(method: str) -> None:
    message = refusal(JWT_SECRET_KEY=STRONG_SECRET, PASSWORD_HASH_METHOD=method)

    assert "PASSWORD_HASH_METHOD" in message
    assert method in message
    assert "OWASP" in message


def test_production_refuses_a_weak_hash_method_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PASSWORD_HASH_METHOD", "scrypt:16384:8:1")

    assert "PASSWORD_HASH_METHOD" in refusal(JWT_SECRET_KEY=STRONG_SECRET)


def test_every_reason_is_named_at_once() -> None:
    message = refusal(DEBUG=True, PASSWORD_HASH_METHOD="pbkdf2:sha256:1000")

    assert "JWT_SECRET_KEY is not set" in message
    assert "DEBUG is on" in message
    assert "PASSWORD_HASH_METHOD" in message
    assert message.count("DEBUG is on") == 1


def test_production_without_a_public_url_refuses_to_start() -> None:
    assert "PUBLIC_URL is not set" in refusal(JWT_SECRET_KEY=STRONG_SECRET, PUBLIC_URL="")


def test_production_refuses_a_plain_http_public_url_while_https_only_is_on() -> None:
    message = refusal(JWT_SECRET_KEY=STRONG_SECRET, PUBLIC_URL="http://api.example.com")

    assert "PUBLIC_URL must be an https:// URL" in message


def test_the_public_url_loses_its_trailing_slash() -> None:
    assert production(PUBLIC_URL="https://api.example.com/v1/").PUBLIC_URL == (
        "https://api.example.com/v1"
    )


@pytest.mark.parametrize(
    "url",
    [
        "api.example.com",
        "ftp://api.example.com",
        "https://",
        "https://api.example.com/?next=x",
        "https://api.example.com/#top",
        "https://user@api.example.com",
        "https://api.example.com:port",
    ],
)
def test_a_public_url_that_is_no_base_url_is_refused(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("PUBLIC_URL", url)

    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        config.Development()


def test_the_refusal_never_repeats_the_secret() -> None:
    short = "Sh0rt-But-Secret"

    assert short not in refusal(JWT_SECRET_KEY=short)


def test_development_and_testing_accept_what_production_refuses() -> None:
    for cls in (config.Development, config.Testing):
        app = create_app(cls(JWT_SECRET_KEY="change-me", SQLALCHEMY_DATABASE_URI="sqlite://"))

        assert app.config["JWT_SECRET_KEY"] == "change-me"


# --- Password hash cost (catalogue section 7) ---


def test_the_production_default_hash_method_meets_the_owasp_minimum() -> None:
    assert meets_owasp_minimum(production(JWT_SECRET_KEY=STRONG_SECRET).PASSWORD_HASH_METHOD)


def test_werkzeugs_own_default_hash_method_is_below_the_owasp_minimum() -> None:
    werkzeug_default = generate_password_hash("x").split("$", 1)[0]

    assert werkzeug_default == "scrypt:32768:8:1"
    assert not meets_owasp_minimum(werkzeug_default)


@pytest.mark.parametrize(
    ("method", "meets"),
    [
        # Each row of the cheat sheet's scrypt table exactly, then one step below in N or p.
        ("scrypt:131072:8:1", True),
        ("scrypt:65536:8:2", True),
        ("scrypt:32768:8:3", True),
        ("scrypt:16384:8:5", True),
        ("scrypt:8192:8:10", True),
        ("scrypt:65536:8:1", False),
        ("scrypt:131071:8:1", False),
        ("scrypt:32768:8:2", False),
        ("scrypt:65535:8:2", False),
        ("scrypt:16384:8:3", False),
        ("scrypt:32767:8:3", False),
        ("scrypt:16384:8:4", False),
        ("scrypt:16383:8:5", False),
        ("scrypt:8192:8:9", False),
        ("scrypt:8191:8:10", False),
        ("scrypt:4096:8:1000", False),
        ("scrypt:131072:8:0", False),
        ("scrypt:1048576:8:1", True),
        ("scrypt:131072:7:1", False),
        ("scrypt:131072:4:1", False),
        ("scrypt", False),
        ("scrypt:131072", False),
        ("pbkdf2:sha256:600000", True),
        ("pbkdf2:sha256:599999", False),
        ("pbkdf2:sha512:220000", True),
        ("pbkdf2:sha512:219999", False),
        ("pbkdf2:sha1:10000000", False),
        # werkzeug's defaults: SHA-256, DEFAULT_PBKDF2_ITERATIONS (1,000,000 in werkzeug 3.1).
        ("pbkdf2", True),
        ("pbkdf2:sha256", True),
        ("pbkdf2:sha512", True),
        ("scrypt:lots:8:1", False),
        ("argon2", False),
        ("", False),
    ],
)
def test_the_owasp_minimum_follows_the_cheat_sheet(method: str, meets: bool) -> None:
    assert meets_owasp_minimum(method) is meets


# --- Selecting and reading the configuration ---


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("development", config.Development),
        ("testing", config.Testing),
        ("TESTING", config.Testing),
        ("production", config.Production),
    ],
)
def test_myapi_config_selects_the_class(
    monkeypatch: pytest.MonkeyPatch, name: str, cls: type
) -> None:
    monkeypatch.setenv("MYAPI_CONFIG", name)

    assert type(select_config()) is cls


def test_without_myapi_config_development_is_selected() -> None:
    assert type(select_config()) is config.Development


def test_an_unknown_config_name_is_refused_naming_the_choices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MYAPI_CONFIG", "staging")

    with pytest.raises(ConfigError) as raised:
        select_config()

    assert "staging" in str(raised.value)
    assert "production" in str(raised.value)


def test_create_app_follows_myapi_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYAPI_CONFIG", "testing")

    app = create_app()

    assert app.config["TESTING"] is True


def test_create_app_refuses_an_unknown_config_name() -> None:
    with pytest.raises(ConfigError):
        create_app("staging")


def test_create_app_in_production_by_name_refuses_a_missing_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MYAPI_CONFIG", "production")

    with pytest.raises(ConfigError, match="JWT_SECRET_KEY is not set"):
        create_app()


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCESS_TOKEN_MINUTES", "5")
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("LOG_LEVEL", "warning")

    settings = config.Testing()

    assert settings.ACCESS_TOKEN_MINUTES == 5
    assert timedelta(minutes=5) == library_settings(vars(settings))["JWT_ACCESS_TOKEN_EXPIRES"]
    assert settings.CORS_ORIGINS == ["https://a.example", "https://b.example"]
    assert settings.RATELIMIT_ENABLED is False
    assert settings.LOG_LEVEL == "WARNING"


def test_issuer_and_audience_are_enforced_on_decode() -> None:
    settings = library_settings(vars(config.Testing()))

    assert settings["JWT_DECODE_ISSUER"] == settings["JWT_ENCODE_ISSUER"] == "myapi"
    assert settings["JWT_DECODE_AUDIENCE"] == settings["JWT_ENCODE_AUDIENCE"] == "myapi"
    assert settings["JWT_DECODE_ALGORITHMS"] == ["HS256"]
    assert settings["JWT_TOKEN_LOCATION"] == ["headers"]


@pytest.mark.parametrize(
    ("name", "value"),
    [("ACCESS_TOKEN_MINUTES", "ten"), ("RATELIMIT_ENABLED", "maybe")],
)
def test_a_malformed_setting_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ConfigError) as raised:
        config.Testing()

    assert name in str(raised.value)
    assert value in str(raised.value)
