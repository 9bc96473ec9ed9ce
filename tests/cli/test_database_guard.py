"""Write commands name the database they change, and credentials are not minted on the
development fallback an operator gets by forgetting the production environment."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from click.testing import Result
from flask import current_app
from sqlalchemy import delete

from myapi import create_app
from myapi.extensions import db
from myapi.models import OAuthClient, SigningKey, User
from tests.cli.helpers import GOOD_PASSWORD

Cli = Callable[..., Result]


@pytest.mark.parametrize(
    "args",
    [
        ("users", "create", "erin", "--email", "erin@example.com", "--password-stdin"),
        ("users", "disable", "alice"),
        ("tokens", "prune"),
        ("clients", "create", "reporting", "--scope", "notes:read"),
        ("keys", "generate"),
    ],
)
def test_every_write_command_names_the_database_first(
    cli: Cli, alice: User, args: tuple[str, ...]
) -> None:
    result = cli(*args, input=GOOD_PASSWORD + "\n")

    assert result.stderr.splitlines()[0].startswith("database: ")
    assert result.stderr.splitlines()[0].removeprefix("database: ") in (
        "sqlite://",
        db.engine.url.render_as_string(hide_password=True),
    )


def test_reading_commands_do_not_name_it(cli: Cli, alice: User) -> None:
    assert "database:" not in cli("users", "list").stderr


def test_a_password_in_the_database_url_is_never_printed(
    monkeypatch: pytest.MonkeyPatch, cli: Cli, alice: User
) -> None:
    monkeypatch.setitem(
        current_app.config, "SQLALCHEMY_DATABASE_URI", "postgresql+psycopg://myapi:hunter2@db/myapi"
    )

    result = cli("users", "disable", "nobody")

    assert "hunter2" not in result.output
    assert "database: postgresql+psycopg://myapi:***@db/myapi" in result.stderr


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (("clients", "create", "reporting", "--scope", "notes:read"), "an OAuth client"),
        (("keys", "generate"), "a signing key"),
        (("keys", "rotate"), "a signing key"),
        (
            (
                "users",
                "create",
                "root",
                "--email",
                "r@example.com",
                "--role",
                "admin",
                "--password-stdin",
            ),
            "an admin",
        ),
    ],
)
def test_credentials_are_refused_on_the_development_fallback(
    fallback_cli: Cli, args: tuple[str, ...], what: str
) -> None:
    result = fallback_cli(*args, input=GOOD_PASSWORD + "\n")

    assert result.exit_code == 1
    assert f"refusing to create {what} in sqlite:///" in result.output
    assert "MYAPI_CONFIG is not set" in result.output
    assert "client_secret" not in result.output
    assert db.session.query(OAuthClient).count() == 0
    assert db.session.query(SigningKey).count() == 0
    assert db.session.query(User).count() == 0


def test_an_ordinary_account_may_still_be_made_on_the_fallback(fallback_cli: Cli) -> None:
    args = ("users", "create", "erin", "--email", "erin@example.com", "--password-stdin")

    result = fallback_cli(*args, input=GOOD_PASSWORD + "\n")

    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("database: sqlite:///")


def test_naming_the_development_config_means_it(
    monkeypatch: pytest.MonkeyPatch, fallback_cli: Cli
) -> None:
    monkeypatch.setitem(current_app.config, "CONFIG_NAMED", True)  # as MYAPI_CONFIG=development

    result = fallback_cli("clients", "create", "reporting", "--scope", "notes:read")

    assert result.exit_code == 0, result.output
    assert "client_secret: myapi_cs_" in result.output


def test_a_production_looking_database_is_no_fallback(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    # DATABASE_URL names a server: the operator chose it, whatever MYAPI_CONFIG says.
    monkeypatch.delenv("MYAPI_CONFIG", raising=False)
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    monkeypatch.setenv("JWT_SECRET_KEY", secrets.token_hex(32))
    app = create_app()
    with app.app_context():
        result = app.test_cli_runner().invoke(
            args=["clients", "create", "reporting", "--scope", "notes:read"]
        )
        db.session.execute(delete(OAuthClient))
        db.session.commit()
        db.engine.dispose()

    assert result.exit_code == 0, result.output
    assert "client_secret: myapi_cs_" in result.output
