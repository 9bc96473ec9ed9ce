"""Helpers for the CLI tests: commands run through Flask's CLI runner on the test app."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask

from myapi import create_app
from myapi.extensions import db


@pytest.fixture
def cli(app: Flask) -> Callable[..., Result]:
    """Invoke `flask <args>` against the test app; `input` is fed to stdin."""
    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(args=list(args), input=input)

    return invoke


@pytest.fixture
def fallback_cli(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Callable[..., Result]]:
    """`flask <args>` as an operator who forgot the production environment runs it: no
    MYAPI_CONFIG, no DATABASE_URL, so Development and a SQLite file."""
    monkeypatch.delenv("MYAPI_CONFIG", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'fallback.db'}")
    monkeypatch.setenv("JWT_SECRET_KEY", secrets.token_hex(32))
    app = create_app()
    with app.app_context():
        db.create_all()
        runner = app.test_cli_runner()
        yield lambda *args, input=None: runner.invoke(args=list(args), input=input)
        db.session.remove()
        db.engine.dispose()
