"""Configuration: the one place that reads the environment, and what Production refuses.

`MYAPI_CONFIG` names the class (development, testing, production); every value comes from
the environment or a `.env` file in the working directory, which never overrides a variable
that is already set (`read_env_file`, called by `select_config` and by the gunicorn
settings; importing this module reads nothing). Each setting is described in
docs/configuration.md and listed in `.env.example` (tests/test_configuration_docs.py keeps
the three in step). What the extensions read is derived from these settings by
`library_settings.py`, not set here.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from typing import Any
from urllib.parse import unquote, urlsplit

from dotenv import find_dotenv, load_dotenv

from myapi.security.key_material import fernet_key_problems
from myapi.security.passwords import meets_owasp_minimum
from myapi.security.secret_strength import secret_problems

log = logging.getLogger(__name__)


class ConfigError(RuntimeError):
    """The configuration is unsafe to run with; the message says why.

    The entry points (wsgi.py, myapi/serving.py) print it as one line and exit non-zero.
    """


def read_env_file() -> None:
    """Load `.env` from the working directory, never overriding a variable already set.

    An unreadable file (a root-owned `.env` left by `make run`, read by the service user) is
    a ConfigError naming it, not a traceback.
    """
    path = find_dotenv(usecwd=True)
    if not path:
        return
    try:
        load_dotenv(path)
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror or error}") from None


def refuse_unsafe(config: Config) -> None:
    """Raise a ConfigError naming every reason `config` must not serve traffic."""
    reasons = config.unsafe_reasons()
    if reasons:
        raise ConfigError("refusing to start: " + "; ".join(dict.fromkeys(reasons)))


def _text(name: str, default: str) -> str:
    return os.environ.get(name, default).strip()


def env_integer(name: str, default: int) -> int:
    """A whole-number setting; also used by myapi/serving.py, so both read it alike."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def env_boolean(name: str, default: bool) -> bool:
    """A true/false setting; also used by myapi/serving.py, so both read it alike."""
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


def public_url_problem(url: str) -> str | None:
    """Why `url` cannot be the service's public base URL, or None if it can."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        return "is not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute http:// or https:// URL"
    if parts.username is not None or parts.query or parts.fragment or "?" in url or "#" in url:
        return "takes no user name, query or fragment"
    return None


def _public_url(url: str) -> str:
    """The public base URL without a trailing slash; refused if it is no such URL."""
    problem = public_url_problem(url) if url else None
    if problem:
        raise ConfigError(f"PUBLIC_URL {problem}, got {url!r}")
    return url.rstrip("/")


_SAMESITE = {"strict": "Strict", "lax": "Lax", "none": "None"}


def _front_end_url(url: str) -> str:
    """The front-end's base URL (the page that consumes a token in an email link)."""
    problem = public_url_problem(url) if url else None
    if problem:
        raise ConfigError(f"FRONTEND_URL {problem}, got {url!r}")
    return url.rstrip("/")


#: Scheme: (default port, STARTTLS, TLS from the first byte).
_MAIL_SCHEMES = {
    "smtp": (25, False, False),
    "smtp+starttls": (587, True, False),
    "smtps": (465, False, True),
}


def mail_url_settings(url: str) -> dict[str, Any]:
    """`MAIL_URL` as the MAIL_* settings it stands for (credentials percent-decoded).

    `smtp://` is plain SMTP, `smtp+starttls://` upgrades with STARTTLS, `smtps://` is TLS
    from the first byte; the port defaults to 25, 587 and 465 respectively.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigError("MAIL_URL is not a URL") from None
    if parts.scheme not in _MAIL_SCHEMES or not parts.hostname:
        raise ConfigError(
            "MAIL_URL must look like smtp://, smtp+starttls:// or "
            "smtps://[user:password@]host[:port]"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError("MAIL_URL takes no path, query or fragment")
    default_port, starttls, implicit_tls = _MAIL_SCHEMES[parts.scheme]
    return {
        "MAIL_SERVER": parts.hostname,
        "MAIL_PORT": port or default_port,
        "MAIL_USERNAME": unquote(parts.username) if parts.username else "",
        "MAIL_PASSWORD": unquote(parts.password) if parts.password else "",
        "MAIL_USE_TLS": starttls,
        "MAIL_USE_SSL": implicit_tls,
    }


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
    DEFAULT_PUBLIC_URL = ""
    DEFAULT_ACCOUNT_EMAILS = True
    DEFAULT_MAIL_DELIVERY = "after-commit"

    def __init__(self, **overrides: Any) -> None:
        self.DEBUG = False
        self.TESTING = False
        # False only when nothing named the config and Development was the fallback: the CLI
        # then refuses to mint credentials (myapi/cli/database.py).
        self.CONFIG_NAMED = True

        self.JWT_SECRET_KEY = os.environ.get("JWT_SECRET_KEY", "")
        # Every absolute URL the service writes (OAuth metadata, the JWKS URI) starts with
        # this, never with the request's Host header (myapi/public_urls.py).
        self.PUBLIC_URL = _text("PUBLIC_URL", self.DEFAULT_PUBLIC_URL)
        self.JWT_ISSUER = _text("JWT_ISSUER", "myapi")
        self.JWT_AUDIENCE = _text("JWT_AUDIENCE", "myapi")
        self.ACCESS_TOKEN_MINUTES = env_integer("ACCESS_TOKEN_MINUTES", 15)
        self.REFRESH_TOKEN_DAYS = env_integer("REFRESH_TOKEN_DAYS", 30)
        self.SESSION_MAX_DAYS = env_integer("SESSION_MAX_DAYS", 90)
        # A session not refreshed for this long ends (services/sessions.py): a closed tab's
        # session does not linger for the refresh token's whole lifetime.
        self.SESSION_IDLE_DAYS = env_integer("SESSION_IDLE_DAYS", 14)
        self.REFRESH_GRACE_SECONDS = env_integer("REFRESH_GRACE_SECONDS", 10)
        self.FRESH_LOGIN_MINUTES = env_integer("FRESH_LOGIN_MINUTES", 15)
        self.JWT_LEEWAY_SECONDS = env_integer("JWT_LEEWAY_SECONDS", 10)
        # `secret`: HS256 with JWT_SECRET_KEY; `keys`: asymmetric keys managed by `flask keys`.
        self.TOKEN_SIGNING = _choice("TOKEN_SIGNING", "secret", ("secret", "keys"))
        self.SIGNING_KEY_ALGORITHM = _choice(
            "SIGNING_KEY_ALGORITHM", "ES256", ("ES256", "RS256", "EdDSA")
        )
        self.SIGNING_KEY_ENCRYPTION_KEYS = _words("SIGNING_KEY_ENCRYPTION_KEYS")
        self.KEY_SET_REFRESH_SECONDS = env_integer("KEY_SET_REFRESH_SECONDS", 30)
        self.CLIENT_TOKEN_MINUTES = env_integer("CLIENT_TOKEN_MINUTES", 15)
        self.PAT_MAX_DAYS = env_integer("PAT_MAX_DAYS", 366)

        self.SQLALCHEMY_DATABASE_URI = _text("DATABASE_URL", "sqlite:///myapi.db")
        self.DB_POOL_SIZE = env_integer("DB_POOL_SIZE", 5)
        self.DB_POOL_RECYCLE_SECONDS = env_integer("DB_POOL_RECYCLE_SECONDS", 1800)
        self.REDIS_URL = _text("REDIS_URL", "")
        self.REDIS_TIMEOUT_SECONDS = env_integer("REDIS_TIMEOUT_SECONDS", 1)
        self.TRUSTED_PROXIES = env_integer("TRUSTED_PROXIES", 0)
        self.HTTPS_ONLY = env_boolean("HTTPS_ONLY", self.DEFAULT_HTTPS_ONLY)
        self.METRICS_ENABLED = env_boolean("METRICS_ENABLED", False)
        self.PASSWORD_HASH_METHOD = _text("PASSWORD_HASH_METHOD", self.DEFAULT_PASSWORD_HASH_METHOD)
        self.MAX_CONTENT_LENGTH = env_integer("MAX_CONTENT_LENGTH", 64 * 1024)
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

        # Account emails (password reset) and their delivery: docs/mail.md.
        self.ACCOUNT_EMAILS = env_boolean("ACCOUNT_EMAILS", self.DEFAULT_ACCOUNT_EMAILS)
        # The web page that consumes a token from an email link; empty: PUBLIC_URL.
        self.FRONTEND_URL = _text("FRONTEND_URL", "")
        self.PASSWORD_RESET_MINUTES = env_integer("PASSWORD_RESET_MINUTES", 30)
        self.EMAIL_VERIFICATION_HOURS = env_integer("EMAIL_VERIFICATION_HOURS", 24)
        # Refuse logins (403) to accounts whose email address is not verified.
        self.REQUIRE_VERIFIED_EMAIL = env_boolean("REQUIRE_VERIFIED_EMAIL", False)
        self.VERIFY_RESEND_LIMIT = _text("VERIFY_RESEND_LIMIT", "3 per hour")
        self.FORGOT_PASSWORD_LIMIT_PER_IP = _text("FORGOT_PASSWORD_LIMIT_PER_IP", "10 per hour")
        self.FORGOT_PASSWORD_LIMIT_PER_EMAIL = _text(
            "FORGOT_PASSWORD_LIMIT_PER_EMAIL", "3 per hour"
        )
        self.RESET_PASSWORD_LIMIT_PER_IP = _text("RESET_PASSWORD_LIMIT_PER_IP", "20 per hour")
        self.MAIL_URL = _text("MAIL_URL", "")
        self.MAIL_SERVER = _text("MAIL_SERVER", "")
        self.MAIL_PORT = env_integer("MAIL_PORT", 25)
        self.MAIL_USERNAME = _text("MAIL_USERNAME", "")
        self.MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
        self.MAIL_USE_TLS = env_boolean("MAIL_USE_TLS", False)
        self.MAIL_USE_SSL = env_boolean("MAIL_USE_SSL", False)
        self.MAIL_TIMEOUT_SECONDS = env_integer("MAIL_TIMEOUT_SECONDS", 10)
        self.MAIL_DEFAULT_SENDER = _text("MAIL_DEFAULT_SENDER", "myapi <no-reply@localhost>")
        # `after-commit`: each process sends right after the commit that queued a message
        # (and retries due ones); `worker`: only `flask mail send` sends.
        self.MAIL_DELIVERY = _choice(
            "MAIL_DELIVERY", self.DEFAULT_MAIL_DELIVERY, ("after-commit", "worker")
        )
        self.MAIL_RETRY_SECONDS = env_integer("MAIL_RETRY_SECONDS", 30)

        for key, value in overrides.items():
            setattr(self, key, value)
        if self.MAIL_URL:
            for key, value in mail_url_settings(self.MAIL_URL).items():
                setattr(self, key, value)
        self.FRONTEND_URL = _front_end_url(self.FRONTEND_URL)
        if self.REQUIRE_VERIFIED_EMAIL and not self.ACCOUNT_EMAILS:
            raise ConfigError(
                "REQUIRE_VERIFIED_EMAIL needs ACCOUNT_EMAILS: without mail nobody could verify"
            )
        # Without an SMTP server, development prints each message to the log, marked as such.
        self.MAIL_CONFIGURED = bool(self.MAIL_SERVER)
        if not self.JWT_SECRET_KEY:
            self.JWT_SECRET_KEY = self.missing_secret()
        self.PUBLIC_URL = _public_url(self.PUBLIC_URL)
        self.RATELIMIT_STORAGE_URI = self.RATELIMIT_STORAGE_URI or self.REDIS_URL or "memory://"

    def missing_secret(self) -> str:
        """Without a configured secret, development runs on a throwaway one."""
        log.warning(
            "JWT_SECRET_KEY is not set: using a random key, so tokens die with this process"
        )
        return secrets.token_hex(32)

    def unsafe_reasons(self) -> list[str]:
        """Reasons this configuration must not serve traffic; only Production is strict."""
        return []


class Development(Config):
    NAME = "development"
    DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"  # where `make run` serves

    def __init__(self, **overrides: Any) -> None:
        super().__init__(**overrides)
        self.DEBUG = env_boolean("FLASK_DEBUG", False)


class Testing(Config):
    __test__ = False  # a config class, not a pytest test class
    NAME = "testing"
    # Tests hash hundreds of passwords; the production cost would make the suite crawl.
    DEFAULT_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    DEFAULT_PUBLIC_URL = "http://localhost"  # the Flask test client's default
    # Tests send queued mail when they choose to (`outbox.deliver_due`), not on a thread.
    DEFAULT_MAIL_DELIVERY = "worker"

    def __init__(self, **overrides: Any) -> None:
        overrides.setdefault("SQLALCHEMY_DATABASE_URI", "sqlite://")
        super().__init__(**overrides)
        self.TESTING = True

    def missing_secret(self) -> str:
        return secrets.token_hex(32)


class Production(Config):
    NAME = "production"
    DEFAULT_HTTPS_ONLY = True
    # Off unless asked for, so a deployment without an SMTP server keeps starting.
    DEFAULT_ACCOUNT_EMAILS = False

    def missing_secret(self) -> str:
        return ""

    def unsafe_reasons(self) -> list[str]:
        """Every reason to refuse to start, each said once; the factory refuses on any."""
        reasons = secret_problems("JWT_SECRET_KEY", self.JWT_SECRET_KEY)
        if self.DEBUG or env_boolean("FLASK_DEBUG", False):
            reasons.append("DEBUG is on")
        if not meets_owasp_minimum(self.PASSWORD_HASH_METHOD):
            reasons.append(
                f"PASSWORD_HASH_METHOD {self.PASSWORD_HASH_METHOD!r} is below the OWASP minimum"
            )
        if self.TOKEN_SIGNING == "keys":
            reasons.extend(fernet_key_problems(self.SIGNING_KEY_ENCRYPTION_KEYS))
        if not self.PUBLIC_URL:
            reasons.append(
                "PUBLIC_URL is not set: the OAuth metadata and the JWKS URI are built from it, "
                "never from a request's Host header"
            )
        elif self.HTTPS_ONLY and not self.PUBLIC_URL.startswith("https://"):
            reasons.append("PUBLIC_URL must be an https:// URL while HTTPS_ONLY is on")
        if self.ACCOUNT_EMAILS and not self.MAIL_CONFIGURED:
            reasons.append(
                "ACCOUNT_EMAILS is on but no SMTP server is set (MAIL_URL or MAIL_SERVER): "
                "Production never prints mail, with its links, to the log"
            )
        if self.HTTPS_ONLY and self.FRONTEND_URL.startswith("http://"):
            reasons.append("FRONTEND_URL must be an https:// URL while HTTPS_ONLY is on")
        return reasons


CONFIGS: dict[str, type[Config]] = {cls.NAME: cls for cls in (Development, Testing, Production)}


def select_config(name: str | None = None) -> Config:
    """Build the config named by the argument, else by `MYAPI_CONFIG`, else Development."""
    read_env_file()
    named = name or _text("MYAPI_CONFIG", "")
    chosen = (named or "development").lower()
    try:
        config = CONFIGS[chosen]()
    except KeyError:
        raise ConfigError(
            f"MYAPI_CONFIG must be one of {', '.join(CONFIGS)}, got {chosen!r}"
        ) from None
    config.CONFIG_NAMED = bool(named)
    return config
