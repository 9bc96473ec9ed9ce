"""Configuration: the one place that reads the environment.

`MYAPI_CONFIG` names the class (development, testing, production); every value
comes from the environment or a `.env` file in the working directory, which
never overrides a variable that is already set. Each setting is listed in the
README's table and in `.env.example`.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from datetime import timedelta
from typing import Any

from dotenv import load_dotenv

load_dotenv()

log = logging.getLogger(__name__)

#: Secret values that appear in the docs, `.env.example` or tutorials; Production refuses them.
EXAMPLE_SECRETS = frozenset(
    {
        "change-me",
        "changeme",
        "secret",
        "super-secret",
        "your-secret-key",
        "jwt-secret",
        "replace-with-64-hex-characters-from-python-secrets-token-hex-32",
    }
)
MIN_SECRET_BYTES = 32


def weak_secrets() -> frozenset[str]:
    """Example and commonly guessed secrets (package data), lower-cased; Production refuses them.

    Read on demand: `myapi` imports this module, so the package data cannot be read at import.
    """
    from importlib.resources import files

    text = files("myapi.security").joinpath("weak_secrets.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


class ConfigError(RuntimeError):
    """The configuration is unsafe to run with; the message says why."""


def _text(name: str, default: str) -> str:
    return os.environ.get(name, default).strip()


def _integer(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def env_boolean(name: str, default: bool) -> bool:
    """A true/false setting; also used by gunicorn.conf.py, so both read it alike."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _words(name: str) -> list[str]:
    return [word for word in os.environ.get(name, "").replace(",", " ").split() if word]


_ORIGIN = re.compile(r"https?://[a-z0-9.-]+(:[0-9]{1,5})?")


def _origins(name: str) -> list[str]:
    """Exact origins only: no wildcard, no `null`, no pattern, no path."""
    origins = _words(name)
    for origin in origins:
        if not _ORIGIN.fullmatch(origin):
            raise ConfigError(
                f"{name} takes exact origins like https://app.example.com, not {origin!r}"
            )
    return origins


_SAMESITE = {"strict": "Strict", "lax": "Lax", "none": "None"}


def _samesite(name: str, default: str) -> str:
    """A cookie's SameSite attribute, spelled the way browsers document it."""
    raw = _text(name, default)
    try:
        return _SAMESITE[raw.lower()]
    except KeyError:
        raise ConfigError(f"{name} must be Strict, Lax or None, got {raw!r}") from None


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """One of a fixed set of values, any case; returned as spelled in `choices`."""
    raw = _text(name, default)
    for choice in choices:
        if raw.lower() == choice.lower():
            return choice
    raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")


class Config:
    """Settings shared by every environment; subclasses change the defaults."""

    NAME = "base"
    DEFAULT_PASSWORD_HASH_METHOD = "scrypt:32768:8:3"
    DEFAULT_HTTPS_ONLY = False

    def __init__(self, **overrides: Any) -> None:
        self.DEBUG = False
        self.TESTING = False

        self.JWT_SECRET_KEY = os.environ.get("JWT_SECRET_KEY", "")
        self.JWT_ISSUER = _text("JWT_ISSUER", "myapi")
        self.JWT_AUDIENCE = _text("JWT_AUDIENCE", "myapi")
        self.ACCESS_TOKEN_MINUTES = _integer("ACCESS_TOKEN_MINUTES", 15)
        self.REFRESH_TOKEN_DAYS = _integer("REFRESH_TOKEN_DAYS", 30)
        self.SESSION_MAX_DAYS = _integer("SESSION_MAX_DAYS", 90)
        self.REFRESH_GRACE_SECONDS = _integer("REFRESH_GRACE_SECONDS", 10)
        self.FRESH_LOGIN_MINUTES = _integer("FRESH_LOGIN_MINUTES", 15)
        self.JWT_LEEWAY_SECONDS = _integer("JWT_LEEWAY_SECONDS", 10)
        # `secret`: HS256 with JWT_SECRET_KEY; `keys`: asymmetric keys managed by `flask keys`.
        self.TOKEN_SIGNING = _choice("TOKEN_SIGNING", "secret", ("secret", "keys"))
        self.SIGNING_KEY_ALGORITHM = _choice(
            "SIGNING_KEY_ALGORITHM", "ES256", ("ES256", "RS256", "EdDSA")
        )
        self.SIGNING_KEY_ENCRYPTION_KEYS = _words("SIGNING_KEY_ENCRYPTION_KEYS")
        self.KEY_SET_REFRESH_SECONDS = _integer("KEY_SET_REFRESH_SECONDS", 30)
        self.CLIENT_TOKEN_MINUTES = _integer("CLIENT_TOKEN_MINUTES", 15)
        self.PAT_MAX_DAYS = _integer("PAT_MAX_DAYS", 366)

        self.SQLALCHEMY_DATABASE_URI = _text("DATABASE_URL", "sqlite:///myapi.db")
        self.DB_POOL_SIZE = _integer("DB_POOL_SIZE", 5)
        self.DB_POOL_RECYCLE_SECONDS = _integer("DB_POOL_RECYCLE_SECONDS", 1800)
        self.REDIS_URL = _text("REDIS_URL", "")
        self.REDIS_TIMEOUT_SECONDS = _integer("REDIS_TIMEOUT_SECONDS", 1)
        self.TRUSTED_PROXIES = _integer("TRUSTED_PROXIES", 0)
        self.HTTPS_ONLY = env_boolean("HTTPS_ONLY", self.DEFAULT_HTTPS_ONLY)
        self.METRICS_ENABLED = env_boolean("METRICS_ENABLED", False)
        self.PASSWORD_HASH_METHOD = _text("PASSWORD_HASH_METHOD", self.DEFAULT_PASSWORD_HASH_METHOD)
        self.MAX_CONTENT_LENGTH = _integer("MAX_CONTENT_LENGTH", 64 * 1024)
        self.CORS_ORIGINS = _origins("CORS_ORIGINS")
        # SameSite of the browser-mode refresh cookie (myapi/auth/browser.py).
        self.REFRESH_COOKIE_SAMESITE = _samesite("REFRESH_COOKIE_SAMESITE", "Strict")
        self.LOG_LEVEL = _text("LOG_LEVEL", "INFO").upper()

        self.RATELIMIT_ENABLED = env_boolean("RATELIMIT_ENABLED", True)
        # With Redis, counters are shared by every worker and host; memory:// is per process.
        # Empty: REDIS_URL when set, else memory:// (decided after overrides, below).
        self.RATELIMIT_STORAGE_URI = _text("RATELIMIT_STORAGE_URI", "")
        self.RATELIMIT_DEFAULT = _text("RATELIMIT_DEFAULT", "300 per minute")
        self.LOGIN_LIMIT_PER_ACCOUNT = _text("LOGIN_LIMIT_PER_ACCOUNT", "5 per minute")
        self.LOGIN_LIMIT_PER_IP = _text("LOGIN_LIMIT_PER_IP", "20 per minute")
        self.REGISTER_LIMIT_PER_IP = _text("REGISTER_LIMIT_PER_IP", "10 per hour")
        self.OAUTH_TOKEN_LIMIT_PER_CLIENT = _text("OAUTH_TOKEN_LIMIT_PER_CLIENT", "60 per minute")

        for key, value in overrides.items():
            setattr(self, key, value)
        if not self.JWT_SECRET_KEY:
            self.JWT_SECRET_KEY = self.missing_secret()
        self._derive_library_settings()

    def missing_secret(self) -> str:
        """Without a configured secret, development runs on a throwaway one."""
        log.warning(
            "JWT_SECRET_KEY is not set: using a random key, so tokens die with this process"
        )
        return secrets.token_hex(32)

    def _derive_library_settings(self) -> None:
        """Translate our settings into the keys the extensions read."""
        self.JWT_ALGORITHM = "HS256"
        self.JWT_DECODE_ALGORITHMS = ["HS256"]
        self.JWT_TOKEN_LOCATION = ["headers"]
        # Tokens travel in the Authorization header only, so there is no cookie to protect
        # and no random `csrf` claim: a pair stays a pure function of its session.
        self.JWT_COOKIE_CSRF_PROTECT = False
        self.JWT_ENCODE_ISSUER = self.JWT_DECODE_ISSUER = self.JWT_ISSUER
        self.JWT_ENCODE_AUDIENCE = self.JWT_DECODE_AUDIENCE = self.JWT_AUDIENCE
        self.JWT_DECODE_LEEWAY = self.JWT_LEEWAY_SECONDS
        self.JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=self.ACCESS_TOKEN_MINUTES)
        self.JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=self.REFRESH_TOKEN_DAYS)
        # No `pool_pre_ping`: it costs a round trip on every checkout. A connection that
        # died (a database restart) fails one request with a 503, and SQLAlchemy then
        # invalidates the whole pool, so each worker loses at most that one request.
        self.SQLALCHEMY_ENGINE_OPTIONS = {}
        if not self.SQLALCHEMY_DATABASE_URI.startswith("sqlite"):
            self.SQLALCHEMY_ENGINE_OPTIONS |= {
                "pool_size": self.DB_POOL_SIZE,
                "pool_recycle": self.DB_POOL_RECYCLE_SECONDS,
                "pool_timeout": 5,
            }
        self.RATELIMIT_STORAGE_URI = self.RATELIMIT_STORAGE_URI or self.REDIS_URL or "memory://"
        # While Redis is unreachable the limiter counts per process instead of failing
        # open, and returns to the shared counters by itself when Redis is back.
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        if self.RATELIMIT_STORAGE_URI.startswith("redis"):
            self.RATELIMIT_STORAGE_OPTIONS = {
                "socket_timeout": self.REDIS_TIMEOUT_SECONDS,
                "socket_connect_timeout": self.REDIS_TIMEOUT_SECONDS,
            }
        # The X-RateLimit-* headers and a 429's Retry-After are written by
        # `ratelimits.add_rate_limit_headers` from the limiter's public `current_limit`.
        self.RATELIMIT_HEADERS_ENABLED = False
        self.RATELIMIT_KEY_PREFIX = "myapi"
        self.API_TITLE = "myapi"
        self.API_VERSION = "1.0.0"
        self.OPENAPI_VERSION = "3.0.3"
        self.OPENAPI_URL_PREFIX = "/"
        self.OPENAPI_JSON_PATH = "openapi.json"

    def unsafe_reasons(self) -> list[str]:
        """Reasons this configuration must not serve traffic; only Production is strict."""
        return []


class Development(Config):
    NAME = "development"

    def __init__(self, **overrides: Any) -> None:
        super().__init__(**overrides)
        self.DEBUG = env_boolean("FLASK_DEBUG", False)


class Testing(Config):
    __test__ = False  # a config class, not a pytest test class
    NAME = "testing"
    # Tests hash hundreds of passwords; the production cost would make the suite crawl.
    DEFAULT_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"

    def __init__(self, **overrides: Any) -> None:
        overrides.setdefault("SQLALCHEMY_DATABASE_URI", "sqlite://")
        super().__init__(**overrides)
        self.TESTING = True

    def missing_secret(self) -> str:
        return secrets.token_hex(32)


class Production(Config):
    NAME = "production"
    DEFAULT_HTTPS_ONLY = True

    def missing_secret(self) -> str:
        return ""

    def unsafe_reasons(self) -> list[str]:
        from myapi.security.passwords import meets_owasp_minimum

        reasons = []
        secret = self.JWT_SECRET_KEY
        if not secret:
            reasons.append("JWT_SECRET_KEY is not set")
        elif secret.strip().lower() in EXAMPLE_SECRETS | weak_secrets():
            reasons.append("JWT_SECRET_KEY is an example value from the documentation")
        elif len(secret.encode()) < MIN_SECRET_BYTES:
            reasons.append(f"JWT_SECRET_KEY is shorter than {MIN_SECRET_BYTES} bytes")
        elif len(set(secret)) < 10:
            reasons.append("JWT_SECRET_KEY is not random (too few distinct characters)")
        if self.DEBUG or env_boolean("FLASK_DEBUG", False):
            reasons.append("DEBUG is on")
        if not meets_owasp_minimum(self.PASSWORD_HASH_METHOD):
            reasons.append(
                f"PASSWORD_HASH_METHOD {self.PASSWORD_HASH_METHOD!r} is below the OWASP minimum"
            )
        if self.TOKEN_SIGNING == "keys":
            reasons.extend(self._key_encryption_problems())
        return reasons

    def _key_encryption_problems(self) -> list[str]:
        """Keys mode stores private keys encrypted: it needs valid Fernet keys (never echoed)."""
        from cryptography.fernet import Fernet

        if not self.SIGNING_KEY_ENCRYPTION_KEYS:
            return ["TOKEN_SIGNING=keys needs SIGNING_KEY_ENCRYPTION_KEYS"]
        problems = []
        for position, value in enumerate(self.SIGNING_KEY_ENCRYPTION_KEYS, start=1):
            try:
                Fernet(value)
            except ValueError:
                problems.append(f"SIGNING_KEY_ENCRYPTION_KEYS entry {position} is not a Fernet key")
        return problems


CONFIGS: dict[str, type[Config]] = {cls.NAME: cls for cls in (Development, Testing, Production)}


def select_config(name: str | None = None) -> Config:
    """Build the config named by the argument, else by `MYAPI_CONFIG`, else Development."""
    chosen = (name or _text("MYAPI_CONFIG", "development")).lower()
    try:
        return CONFIGS[chosen]()
    except KeyError:
        raise ConfigError(
            f"MYAPI_CONFIG must be one of {', '.join(CONFIGS)}, got {chosen!r}"
        ) from None
