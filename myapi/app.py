"""The application factory: `create_app()` is a list of named steps, in the order that matters."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from myapi import auth, health, oauth, protected
from myapi.auth.browser import COOKIE_ENDPOINTS, register_browser_mode
from myapi.cli import COMMAND_GROUPS
from myapi.config import Config, refuse_unsafe, select_config
from myapi.errors import register_error_handlers
from myapi.extensions import api, cors, db, jwt, limiter, mail, migrate
from myapi.http_policy import register_http_policy
from myapi.library_settings import library_settings
from myapi.logs import configure_logging
from myapi.mail.sender import register_mail_sender
from myapi.metrics import register_metrics
from myapi.ratelimits import add_rate_limit_headers
from myapi.security.authentication import identify_caller
from myapi.security.policy import register_token_policy
from myapi.security.revocation import create_revocation_store
from myapi.services import personal_tokens


def migrations_directory() -> Path:
    """Alembic's scripts: inside the package when installed from a wheel, else the checkout's."""
    package = Path(__file__).resolve().parent
    installed = package / "migrations"
    return installed if installed.is_dir() else package.parent / "migrations"


def create_app(config: str | type[Config] | Config | None = None) -> Flask:
    """Build the app; `config` is a config name, class or instance (default: `MYAPI_CONFIG`)."""
    app = Flask(__name__, static_folder=None)
    load_config(app, config)
    trust_proxies(app)
    configure_logging(app)
    register_metrics(app)
    register_http_policy(app)
    # Before the extensions: these hooks run before the rate limiter's (see register_extensions).
    register_token_policy(app)
    register_usage_records(app)
    register_browser_mode(app)
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
    refuse_unsafe(config)


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


def register_extensions(app: Flask) -> None:
    """Bind the extensions, with the library settings derived from ours (`library_settings`).

    Rate limits count per caller, so the caller is identified right before the limiter's
    hook: `identify_caller` also stages the caller's revocation keys, which the limiter's
    storage reads in its own Redis round trip. The rate-limit headers are registered before
    the limiter, so they run after its own after-request step (which counts the limits that
    count only some answers, like failed logins).
    """
    app.config.update(library_settings(app.config))
    app.extensions["revocation_store"] = create_revocation_store(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(migrations_directory()))
    app.before_request(identify_caller)
    app.after_request(add_rate_limit_headers)
    limiter.init_app(app)
    jwt.init_app(app)
    mail.init_app(app)
    register_mail_sender(app)
    api.init_app(app)
    api.register_security_scheme()
    if app.config["CORS_ORIGINS"]:
        # Exact origins only (myapi/config.py refuses `*`, `null` and patterns). Credentials are
        # allowed only for those origins, and only on the endpoints that set, send or clear
        # the browser-mode refresh cookie (literal paths, matched exactly by flask-cors);
        # everywhere else tokens travel in the Authorization header.
        # Each origin is matched exactly, case included (a browser serialises an origin in
        # lower case, so another spelling is not a browser's), and CORS headers go only to
        # requests that carry an Origin.
        cookie_paths = {path: {"supports_credentials": True} for path in COOKIE_ENDPOINTS}
        cors.init_app(
            app,
            resources=cookie_paths | {"*": {}},
            origins=[
                re.compile(re.escape(origin) + r"\Z") for origin in app.config["CORS_ORIGINS"]
            ],
            always_send=False,
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
    app.register_blueprint(oauth.pages)  # HTML, not part of the JSON API's document


def register_commands(app: Flask) -> None:
    for group in COMMAND_GROUPS:
        app.cli.add_command(group)
