"""Helpers for the CLI tests: commands run through Flask's CLI runner on the test app."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import Result
from flask import Flask

from myapi.extensions import db
from myapi.models import User

GOOD_PASSWORD = "a long enough password"


@pytest.fixture
def cli(app: Flask) -> Callable[..., Result]:
    """Invoke `flask <args>` against the test app; `input` is fed to stdin."""
    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(args=list(args), input=input)

    return invoke


def stored_user(username: str) -> User | None:
    """The account as the database has it now, not as the session remembers it."""
    db.session.expire_all()
    return db.session.query(User).filter_by(username=username).one_or_none()
