"""What the extensions read, derived from the app's own settings: nobody sets these.

`myapi.config` reads the environment into the settings documented in
docs/configuration.md; `register_extensions` adds these before binding the extensions,
so a library's knob has exactly one source.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from myapi.adapters.flask_mailman import VerifiedSMTPBackend
from myapi.adapters.limits_storage import SCHEME_PREFIX
from myapi.mail.console import MarkedConsoleBackend


def library_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """flask-jwt-extended, Flask-SQLAlchemy, Flask-Limiter, Flask-Mailman and flask-smorest."""
    return (
        _token_settings(settings)
        | _database_settings(settings)
        | _limiter_settings(settings)
        | _mail_settings(settings)
        | {
            "API_TITLE": "myapi",
            "API_VERSION": "1.0.0",
            "OPENAPI_VERSION": "3.0.3",
            "OPENAPI_URL_PREFIX": "/",
            "OPENAPI_JSON_PATH": "openapi.json",
        }
    )


def _token_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "JWT_ALGORITHM": "HS256",
        "JWT_DECODE_ALGORITHMS": ["HS256"],
        "JWT_TOKEN_LOCATION": ["headers"],
        # Tokens travel in the Authorization header only, so there is no cookie to protect
        # and no random `csrf` claim: a pair stays a pure function of its session.
        "JWT_COOKIE_CSRF_PROTECT": False,
        "JWT_ENCODE_ISSUER": settings["JWT_ISSUER"],
        "JWT_DECODE_ISSUER": settings["JWT_ISSUER"],
        "JWT_ENCODE_AUDIENCE": settings["JWT_AUDIENCE"],
        "JWT_DECODE_AUDIENCE": settings["JWT_AUDIENCE"],
        "JWT_DECODE_LEEWAY": settings["JWT_LEEWAY_SECONDS"],
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=settings["ACCESS_TOKEN_MINUTES"]),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=settings["REFRESH_TOKEN_DAYS"]),
    }


def _database_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    # No `pool_pre_ping`: it costs a round trip on every checkout. A connection that died
    # (a database restart) fails one request with a 503, and SQLAlchemy then invalidates the
    # whole pool, so each worker loses at most that one request.
    if settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return {"SQLALCHEMY_ENGINE_OPTIONS": {}}
    return {
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_size": settings["DB_POOL_SIZE"],
            "pool_recycle": settings["DB_POOL_RECYCLE_SECONDS"],
            "pool_timeout": 5,
        }
    }


def _limiter_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    storage = settings["RATELIMIT_STORAGE_URI"]
    wired: dict[str, Any] = {
        # While Redis is unreachable the limiter counts per process instead of failing open,
        # and returns to the shared counters by itself when Redis is back.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        # The X-RateLimit-* headers and a 429's Retry-After are written by
        # `ratelimits.add_rate_limit_headers` from the limiter's public `current_limit`.
        "RATELIMIT_HEADERS_ENABLED": False,
        "RATELIMIT_KEY_PREFIX": "myapi",
    }
    if storage.startswith("redis"):
        wired["RATELIMIT_STORAGE_OPTIONS"] = {
            "socket_timeout": settings["REDIS_TIMEOUT_SECONDS"],
            "socket_connect_timeout": settings["REDIS_TIMEOUT_SECONDS"],
        }
    if storage == settings["REDIS_URL"] and storage.startswith(("redis://", "rediss://")):
        # Same Redis as the revocation mirror: the storage that reads both in one trip
        # (`adapters.limits_storage`).
        wired["RATELIMIT_STORAGE_URI"] = SCHEME_PREFIX + storage
    return wired


def _mail_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Flask-Mailman reads MAIL_SERVER, MAIL_PORT, ... as they are; these are the rest.

    Without an SMTP server, tests keep messages in memory and development prints them
    (Production refuses to start that way while account emails are on).
    """
    # Flask-Mailman takes a backend class as well as a name (`Mail.import_backend`).
    backend: Any
    if settings["MAIL_CONFIGURED"]:
        # Its SMTP backend, with verified TLS (myapi/adapters/flask_mailman.py).
        backend = VerifiedSMTPBackend
    elif settings["TESTING"]:
        backend = "locmem"
    else:
        # Each message to the log, marked as not sent.
        backend = MarkedConsoleBackend
    return {"MAIL_BACKEND": backend, "MAIL_TIMEOUT": settings["MAIL_TIMEOUT_SECONDS"]}
