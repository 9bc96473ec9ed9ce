"""Mail tests run against a real SMTP server on loopback, on SQLite and on PostgreSQL + Redis.

`app` is redefined here: the same two backends as the suite's, with `MAIL_URL` pointing at
the loopback server. Delivery is `worker` mode (the test runs the sender's pass with `deliver`)
unless a test asks for the in-process sender with `threaded_app`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from flask import Flask

from myapi import create_app
from myapi.config import Testing
from myapi.extensions import db
from myapi.mail.sender import one_pass
from myapi.models import User
from myapi.services.accounts import register
from tests.conftest import TEST_REDIS_URL, _empty_postgres_and_redis
from tests.helpers.http import PASSWORD
from tests.mail.smtp_server import LoopbackSMTP


@pytest.fixture
def smtp_server() -> Iterator[LoopbackSMTP]:
    server = LoopbackSMTP()
    server.start()
    yield server
    server.stop()


def _mail_config(smtp_server: LoopbackSMTP, **settings: Any) -> dict[str, Any]:
    return {"MAIL_URL": smtp_server.url, "MAIL_TIMEOUT_SECONDS": 5} | settings


@pytest.fixture(params=["sqlite", "postgres+redis"])
def app(request: pytest.FixtureRequest, smtp_server: LoopbackSMTP) -> Iterator[Flask]:
    settings = _mail_config(smtp_server)
    if request.param == "sqlite":
        app = create_app(Testing(**settings))
        with app.app_context():
            db.create_all()
            yield app
            db.session.remove()
            db.drop_all()
        return
    url = request.getfixturevalue("postgres_url")
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    app = create_app(Testing(SQLALCHEMY_DATABASE_URI=url, REDIS_URL=TEST_REDIS_URL, **settings))
    with app.app_context():
        yield app
        _empty_postgres_and_redis()
        db.engine.dispose()


@pytest.fixture(params=["sqlite file", "postgres+redis"])
def threaded_app(
    request: pytest.FixtureRequest, smtp_server: LoopbackSMTP, tmp_path: Any
) -> Iterator[Flask]:
    """MAIL_DELIVERY=after-commit: each commit that queues mail wakes a sender thread.

    SQLite on a file, since the thread has its own connection (an in-memory database would
    be another, empty one).
    """
    settings = _mail_config(smtp_server, MAIL_DELIVERY="after-commit", MAIL_RETRY_SECONDS=1)
    if request.param == "sqlite file":
        app = create_app(
            Testing(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'app.db'}", **settings)
        )
        with app.app_context():
            db.create_all()
            yield app
            app.extensions["mail_sender"].stop()
            db.session.remove()
            db.engine.dispose()
        return
    url = request.getfixturevalue("postgres_url")
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    app = create_app(Testing(SQLALCHEMY_DATABASE_URI=url, REDIS_URL=TEST_REDIS_URL, **settings))
    with app.app_context():
        yield app
        app.extensions["mail_sender"].stop()
        _empty_postgres_and_redis()
        db.engine.dispose()


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    """Accounts whose address is verified already, so the only mail is what a test asks for
    (the verification email at registration is tested in test_email_verification.py)."""

    def make(username: str, *, role: str = "user", password: str = PASSWORD) -> User:
        return register(
            username, f"{username}@example.com", password, role=role, email_verified=True
        )

    return make


@pytest.fixture
def deliver(app: Flask) -> Any:
    """Run one pass of the sender, as `flask mail send` does: resolve the recorded reset
    requests, then send the outbox."""
    return one_pass
