"""myapi: a Flask JSON API with revocable, scoped, rotating JWTs."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config, ConfigError, select_config
from myapi import auth, health, oauth, protected
from myapi.adapters.limits_storage import SCHEME_PREFIX as PIGGYBACK_SCHEME_PREFIX
from myapi.auth.browser import COOKIE_ENDPOINTS, register_browser_mode
from myapi.cli import COMMAND_GROUPS
from myapi.errors import register_error_handlers
from myapi.extensions import api, cors, db, jwt, limiter, migrate
from myapi.http_policy import register_http_policy
from myapi.logs import configure_logging
from myapi.metrics import register_metrics
from myapi.ratelimits import add_rate_limit_headers
from myapi.security.authentication import identify_caller
from myapi.security.policy import register_token_policy
from myapi.security.revocation import create_revocation_store
from myapi.services import personal_tokens

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: str | type[Config] | Config | None = None) -> Flask:
    """Build the app; `config` is a config name, class or instance (default: `MYAPI_CONFIG`)."""
    app = Flask(__name__, static_folder=None)
    load_config(app, config)
    trust_proxies(app)
    configure_logging(app)
    register_metrics(app)
    register_http_policy(app)
    register_token_policy(app)
    register_usage_records(app)
    register_browser_mode(app)
    register_rate_limits(app)
    register_extensions(app)
    register_error_handlers(app)
    register_blueprints(app)
    register_commands(app)
    return app


def load_config(app: Flask, config: str | type[Config] | Config | None) -> None:
    """Apply the config, and refuse to start on an unsafe one, saying why."""
    if config is None or isinstance(config, str):
        config = select_config(config)
    elif isinstance(config, type):
        config = config()
    app.config.from_object(config)
    reasons = config.unsafe_reasons()
    if app.debug and config.NAME == "production":
        reasons.append("DEBUG is on")
    if reasons:
        raise ConfigError("refusing to start: " + "; ".join(dict.fromkeys(reasons)))


def trust_proxies(app: Flask) -> None:
    """Believe X-Forwarded-For/-Proto only from the configured number of proxy hops.

    With 0 (the default) the headers are ignored, so a client cannot pick its own
    address for the rate limiter or claim HTTPS.
    """
    hops = app.config["TRUSTED_PROXIES"]
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def register_usage_records(app: Flask) -> None:
    """A personal access token's last use is written after each request it authenticates."""
    app.after_request(personal_tokens.record_use)


def register_rate_limits(app: Flask) -> None:
    """Limits count per caller, so the caller is identified right before the limiter runs.

    `identify_caller` also stages the caller's revocation keys, which the limiter's
    storage reads in its own Redis round trip (`adapters.limits_storage`). Runs after the
    token policy's header normalisation and browser mode's cookie adapter.
    """
    app.extensions["revocation_store"] = create_revocation_store(app)
    storage = app.config["RATELIMIT_STORAGE_URI"]
    if storage == app.config["REDIS_URL"] and storage.startswith(("redis://", "rediss://")):
        # Same Redis as the revocation mirror: the storage that reads both in one trip.
        app.config["RATELIMIT_STORAGE_URI"] = PIGGYBACK_SCHEME_PREFIX + storage
    app.before_request(identify_caller)
    # Registered before the limiter, so it runs after the limiter's own after-request
    # step (which counts the limits that count only some answers, like failed logins).
    app.after_request(add_rate_limit_headers)
    limiter.init_app(app)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    jwt.init_app(app)
    api.init_app(app)
    api.register_security_scheme()
    if app.config["CORS_ORIGINS"]:
        # Exact origins only (config.py refuses `*`, `null` and patterns). Credentials are
        # allowed only for those origins, and only on the endpoints that set, send or clear
        # the browser-mode refresh cookie (literal paths, matched exactly by flask-cors);
        # everywhere else tokens travel in the Authorization header.
        cookie_paths = {path: {"supports_credentials": True} for path in COOKIE_ENDPOINTS}
        cors.init_app(
            app,
            resources=cookie_paths | {"*": {}},
            origins=app.config["CORS_ORIGINS"],
            methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-Request-ID",
                "X-CSRF-Token",
                "X-Token-Delivery",
            ],
            expose_headers=[
                "Retry-After",
                "X-Request-ID",
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
            ],
            supports_credentials=False,
            max_age=600,
            allow_private_network=False,
        )


def register_blueprints(app: Flask) -> None:
    limiter.exempt(health.blp)
    api.register_blueprint(health.blp)
    api.register_blueprint(auth.blp)
    api.register_blueprint(protected.blp)
    api.register_blueprint(oauth.blp)


def register_commands(app: Flask) -> None:
    for group in COMMAND_GROUPS:
        app.cli.add_command(group)
