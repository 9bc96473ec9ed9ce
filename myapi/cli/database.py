"""What every write command says first, and what none does on a database nobody chose.

A command run without the production environment reads no `MYAPI_CONFIG` and no
`DATABASE_URL`, so it falls back to Development and its SQLite file: it would create a client
there, print a secret production never learns, and exit 0. So each write command names the
database it changes, and minting a credential (a client secret, a signing key, an admin) is
refused on that fallback.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from flask import current_app
from sqlalchemy.engine import make_url


def database_label() -> str:
    """The database URL with any password hidden."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    return url.render_as_string(hide_password=True)


def writes_database(command: Callable[..., None]) -> Callable[..., None]:
    """Name the database on stderr before the command changes it."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        click.echo(f"database: {database_label()}", err=True)
        command(*args, **kwargs)

    return run


def refuse_on_the_fallback_database(what: str) -> None:
    """Refuse to create `what` when no config was named and the database is the SQLite
    default: almost surely an operator who forgot the production environment."""
    config = current_app.config
    if config["CONFIG_NAMED"] or not config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    raise click.ClickException(
        f"refusing to create {what} in {database_label()}: MYAPI_CONFIG is not set, so this "
        "is the development fallback. Run the command with the production environment (the "
        "myapi-flask wrapper in docs/deploy.md), or set MYAPI_CONFIG=development to mean it."
    )
