"""`flask db upgrade/downgrade`: the migrations build exactly the schema the models describe.

Runs on a fresh SQLite file always, and on a throwaway PostgreSQL database of its own
when TEST_DATABASE_URL points at a server (e.g. postgresql+psycopg://postgres@127.0.0.1/test).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from myapi import config, create_app
from myapi.app import migrations_directory
from myapi.extensions import db
from myapi.models import Base
from tests.scratch_database import scratch_postgres_database

APP_TABLES = {"users", "auth_sessions", "revoked_tokens", "notes"}


@pytest.fixture(autouse=True)
def preserve_logging() -> Iterator[None]:
    """Alembic's env.py calls logging.fileConfig; undo it so no other test is affected."""
    manager = logging.Logger.manager
    root = logging.getLogger()
    saved_root = (root.level, list(root.handlers))
    saved = {
        name: (logger.disabled, logger.level, list(logger.handlers), logger.propagate)
        for name, logger in manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    yield
    root.setLevel(saved_root[0])
    root.handlers[:] = saved_root[1]
    for name, (disabled, level, handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.disabled, logger.level, logger.propagate = disabled, level, propagate
        logger.handlers[:] = handlers


def sqlite_database(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'migrated.db'}"


def postgresql_database() -> Iterator[str]:
    """A uniquely named database on the TEST_DATABASE_URL server, dropped afterwards."""
    server_url = os.environ.get("TEST_DATABASE_URL")
    if not server_url:
        pytest.skip("TEST_DATABASE_URL is not set: no PostgreSQL server to migrate")
    url = make_url(server_url)
    if not url.drivername.startswith("postgresql"):
        pytest.skip(f"TEST_DATABASE_URL is not a PostgreSQL URL ({url.drivername})")
    with scratch_postgres_database("myapi_migtest") as database_url:
        yield database_url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield from sqlite_database(tmp_path)
    else:
        yield from postgresql_database()


@pytest.fixture
def empty_app(database_url: str) -> Iterator[Flask]:
    """An app on the empty database; no tables are created for it."""
    app = create_app(config.Testing(SQLALCHEMY_DATABASE_URI=database_url))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def flask_db(app: Flask, *args: str) -> Any:
    result = app.test_cli_runner().invoke(args=["db", *args])
    assert result.exit_code == 0, f"flask db {' '.join(args)}: {result.output}{result.exception!r}"
    return result


def schema_differences(app: Flask) -> list[Any]:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def table_names(app: Flask) -> set[str]:
    with app.app_context(), db.engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def current_revision(app: Flask) -> str | None:
    with app.app_context(), db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    return ScriptDirectory(str(migrations_directory())).get_current_head()


def test_upgrade_brings_an_empty_database_to_head(empty_app: Flask) -> None:
    flask_db(empty_app, "upgrade")

    assert current_revision(empty_app) == head_revision()
    assert table_names(empty_app) >= APP_TABLES


def test_the_migrated_schema_matches_the_models(empty_app: Flask) -> None:
    flask_db(empty_app, "upgrade")

    assert schema_differences(empty_app) == []


def test_upgrade_twice_is_a_no_op(empty_app: Flask) -> None:
    flask_db(empty_app, "upgrade")

    flask_db(empty_app, "upgrade")

    assert current_revision(empty_app) == head_revision()
    assert schema_differences(empty_app) == []


def test_downgrade_to_base_removes_every_table(empty_app: Flask) -> None:
    flask_db(empty_app, "upgrade")

    flask_db(empty_app, "downgrade", "base")

    assert current_revision(empty_app) is None
    assert table_names(empty_app) <= {"alembic_version"}


def test_the_schema_survives_a_downgrade_and_upgrade_round_trip(empty_app: Flask) -> None:
    flask_db(empty_app, "upgrade")
    flask_db(empty_app, "downgrade", "base")

    flask_db(empty_app, "upgrade")

    assert schema_differences(empty_app) == []


def test_the_app_works_on_a_migrated_database(empty_app: Flask) -> None:
    flask_db(empty_app, "upgrade")
    client = empty_app.test_client()
    password = "correct horse battery staple"

    registered = client.post(
        "/auth/register",
        json={"username": "mig", "email": "mig@example.com", "password": password},
    )
    tokens = client.post("/auth/login", json={"username": "mig", "password": password}).json
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    created = client.post("/api/v1/notes", json={"title": "persisted"}, headers=headers)

    assert registered.status_code == 201
    assert created.status_code == 201
    listed = client.get("/api/v1/notes", headers=headers).json
    assert [item["title"] for item in listed["items"]] == ["persisted"]


def test_running_migrations_in_process_does_not_silence_the_apps_logs(tmp_path: Path) -> None:
    app = create_app(config.Testing(SQLALCHEMY_DATABASE_URI=next(sqlite_database(tmp_path))))
    audit_log = logging.getLogger("myapi.audit")
    assert not audit_log.disabled

    flask_db(app, "upgrade")

    assert not audit_log.disabled, "alembic's fileConfig disabled the myapi.audit logger"
    assert not logging.getLogger("myapi").disabled
