"""Fixtures: an app per test, users made by the service, tokens from a real login.

Every test that uses `app` runs twice when TEST_DATABASE_URL and TEST_REDIS_URL
are set: on in-memory SQLite with the SQL revocation store, and on PostgreSQL
with the Redis revocation mirror (skipped, with the reason, when they are not).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import redis.connection
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text

from myapi import clock as service_clock
from myapi import create_app
from myapi.config import Testing
from myapi.extensions import db
from myapi.models import Base, User
from myapi.security.revocation import RedisRevocationStore, revocation_store
from myapi.services.accounts import register
from myapi.services.clients import create_client
from tests.helpers.authorization import APP_REDIRECT, authorize_and_allow, authorize_query, new_pkce
from tests.helpers.clock import Clock
from tests.helpers.http import PASSWORD, bearer
from tests.helpers.logs import LogLines, capture_logs
from tests.helpers.oauth import TOKEN, Credentials
from tests.scratch_database import scratch_postgres_database

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this test run's own, with the schema, dropped at the end."""
    if not (TEST_DATABASE_URL and TEST_REDIS_URL):
        pytest.skip("set TEST_DATABASE_URL and TEST_REDIS_URL to run on PostgreSQL and Redis")
    with scratch_postgres_database("myapi_suite") as url:
        engine = create_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        yield url


def _empty_postgres_and_redis() -> None:
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    db.session.remove()
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()


@pytest.fixture(params=["sqlite", "postgres+redis"])
def app(request: pytest.FixtureRequest) -> Iterator[Flask]:
    if request.param == "sqlite":
        app = create_app(Testing())
        with app.app_context():
            db.create_all()
            yield app
            db.session.remove()
            db.drop_all()
        return
    url = request.getfixturevalue("postgres_url")
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    app = create_app(Testing(SQLALCHEMY_DATABASE_URI=url, REDIS_URL=TEST_REDIS_URL))
    with app.app_context():
        yield app
        _empty_postgres_and_redis()
        db.engine.dispose()


@pytest.fixture(params=["sqlite file", "postgres+redis"])
def concurrent_app(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Flask]:
    """An app for tests that run requests on several threads at once: SQLite on a file
    (an in-memory database would be one connection, serialising everything) or PostgreSQL."""
    if request.param == "sqlite file":
        app = create_app(Testing(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'app.db'}"))
        with app.app_context():
            db.create_all()
            yield app
            db.session.remove()
            db.engine.dispose()
        return
    url = request.getfixturevalue("postgres_url")
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    app = create_app(Testing(SQLALCHEMY_DATABASE_URI=url, REDIS_URL=TEST_REDIS_URL))
    with app.app_context():
        yield app
        _empty_postgres_and_redis()
        db.engine.dispose()


@pytest.fixture
def redis_mirror(app: Flask) -> redis.Redis:
    """The revocation store's Redis client; the test is skipped on the SQLite app."""
    store = revocation_store()
    if not isinstance(store, RedisRevocationStore):
        pytest.skip("the Redis mirror runs with the postgres+redis app")
    return store.client


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    """Create an account directly through the service (no rate limit, no HTTP)."""

    def make(username: str, *, role: str = "user", password: str = PASSWORD) -> User:
        return register(username, f"{username}@example.com", password, role=role)

    return make


@pytest.fixture
def login(client: FlaskClient) -> Callable[..., dict[str, Any]]:
    """Log in over HTTP and return the token response body."""

    def do_login(username: str, password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
        response = client.post(
            "/auth/login", json={"username": username, "password": password, **extra}
        )
        assert response.status_code == 200, response.json
        return response.json

    return do_login


@pytest.fixture
def alice(make_user: Callable[..., User]) -> User:
    return make_user("alice")


@pytest.fixture
def bob(make_user: Callable[..., User]) -> User:
    return make_user("bob")


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user("root", role="admin")


@pytest.fixture
def alice_tokens(alice: User, login: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return login("alice")


@pytest.fixture
def alice_headers(alice_tokens: dict[str, Any]) -> dict[str, str]:
    return bearer(alice_tokens["access_token"])


@pytest.fixture
def bob_headers(bob: User, login: Callable[..., dict[str, Any]]) -> dict[str, str]:
    return bearer(login("bob")["access_token"])


@pytest.fixture
def admin_headers(admin: User, login: Callable[..., dict[str, Any]]) -> dict[str, str]:
    return bearer(login("root")["access_token"])


@pytest.fixture
def clock(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Freeze the service's clock (`myapi.clock`); the test moves it with `advance`.

    Only the service's own timestamps move: PyJWT checks token expiry against real time.
    """
    frozen = Clock()
    monkeypatch.setattr(service_clock, "source", lambda: frozen.now)
    return frozen


@pytest.fixture
def make_client(app: Flask) -> Callable[..., Credentials]:
    """Register an OAuth client through the service; returns its id and secret."""

    def make(scope: str = "notes:read users:read", **options: Any) -> Credentials:
        client, secret = create_client("reporting", scope, **options)
        return Credentials(client.client_id, secret)

    return make


@pytest.fixture
def get_token(client: FlaskClient) -> Callable[..., Any]:
    """POST /oauth/token with client_secret_basic; `form` adds or overrides parameters."""

    def request_token(credentials: Credentials, **form: str) -> Any:
        data = {"grant_type": "client_credentials", **form}
        return client.post(TOKEN, data=data, headers=credentials.basic)

    return request_token


@pytest.fixture
def client_token(get_token: Callable[..., Any]) -> Callable[..., str]:
    """An access token for the client (asserting it was issued)."""

    def issue(credentials: Credentials, **form: str) -> str:
        response = get_token(credentials, **form)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json["access_token"]

    return issue


@pytest.fixture
def logs(app: Flask) -> Iterator[LogLines]:
    """The log lines written after this point (request this fixture first)."""
    handler = capture_logs()
    yield handler
    logging.getLogger("myapi").removeHandler(handler)


@pytest.fixture
def redis_round_trips(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The first command of every request the app sends to Redis while the test runs.

    One entry per network round trip: a pipeline or a script is one send, whatever it
    does inside. Only on PostgreSQL + Redis (skipped on SQLite, which has no Redis).
    """
    if not app.config["REDIS_URL"]:
        pytest.skip("needs Redis")
    sent: list[str] = []
    original = redis.connection.AbstractConnection.send_packed_command

    def record(connection: Any, command: Any, *args: Any, **kwargs: Any) -> None:
        first = command[0] if isinstance(command, list) else command
        sent.append(bytes(first).split(b"\r\n")[2].decode())
        original(connection, command, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", record)
    return sent


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    """The verb (SELECT, UPDATE, ...) of every SQL statement the app sends while the test runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement.lstrip().split(None, 1)[0].upper())

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def web_app(make_client: Callable[..., Credentials]) -> Credentials:
    """A confidential third-party web app that may ask users for their notes."""
    return make_client(
        "notes:read notes:write", grants=("authorization_code",), redirect_uris=(APP_REDIRECT,)
    )


@pytest.fixture
def exchange(client: FlaskClient) -> Callable[..., Any]:
    """POST the token endpoint's authorization_code grant; `form` adds or overrides fields."""

    def post(app: Credentials, code: str, verifier: str | None, **form: str) -> Any:
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": APP_REDIRECT}
        if verifier is not None:
            data["code_verifier"] = verifier
        headers = app.basic if app.secret else {}
        if not app.secret:
            data["client_id"] = app.client_id
        return client.post(TOKEN, data=data | form, headers=headers)

    return post


@pytest.fixture
def app_tokens(
    client: FlaskClient, alice: User, web_app: Credentials, exchange: Callable[..., Any]
) -> dict[str, Any]:
    """Alice let the web app read and write her notes; the app's token response."""
    pkce = new_pkce()
    code = authorize_and_allow(
        client, authorize_query(web_app.client_id, pkce, scope="notes:read notes:write")
    )["code"]
    response = exchange(web_app, code, pkce.verifier)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json
