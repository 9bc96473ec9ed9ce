"""An app with METRICS_ENABLED, on the usual in-memory database and fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from myapi import create_app
from myapi.config import Testing
from myapi.extensions import db


@pytest.fixture
def app() -> Iterator[Flask]:
    """Replaces the suite's `app`, so `client`, `make_user` and `login` serve metrics too."""
    app = create_app(Testing(METRICS_ENABLED=True))
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
