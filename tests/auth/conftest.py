"""Fixtures for the auth tests, beyond the shared ones in tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from myapi import create_app
from myapi.config import Testing
from myapi.extensions import db


@pytest.fixture
def file_app(tmp_path: Path) -> Iterator[Flask]:
    """An app on a file-based SQLite database, which several threads can share."""
    app = create_app(Testing(SQLALCHEMY_DATABASE_URI="sqlite:///" + str(tmp_path / "db.sqlite")))
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
