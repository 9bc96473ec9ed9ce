"""Liveness and readiness probes: no token needed; readiness reports the database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from myapi import config, create_app
from myapi.extensions import db
from tests.helpers.http import assert_problem

UNREACHABLE_DATABASE = "sqlite:////nonexistent-dir/x.db"


@pytest.fixture
def broken_app() -> Iterator[Flask]:
    """An app whose database cannot be opened."""
    app = create_app(config.Testing(SQLALCHEMY_DATABASE_URI=UNREACHABLE_DATABASE))
    yield app
    with app.app_context():
        db.engine.dispose()


def test_healthz_answers_ok_without_a_token(client: FlaskClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == {"status": "ok"}


def test_readyz_reports_a_reachable_database(client: FlaskClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json["status"] == "ready"
    assert response.json["checks"]["database"] == "ok"
    assert set(response.json["checks"].values()) == {"ok"}


def test_readyz_answers_503_naming_an_unreachable_database(broken_app: Flask) -> None:
    response = broken_app.test_client().get("/readyz")

    problem = assert_problem(response, 503)
    assert "database" in problem["detail"]
    assert problem["checks"] == {"database": "unavailable"}
    assert "nonexistent-dir" not in response.get_data(as_text=True)


def test_healthz_stays_ok_while_the_database_is_unreachable(broken_app: Flask) -> None:
    response = broken_app.test_client().get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_keeps_answering_503_while_the_database_stays_unreachable(broken_app: Flask) -> None:
    client = broken_app.test_client()
    assert_problem(client.get("/readyz"), 503)

    again = client.get("/readyz")

    assert_problem(again, 503)
    assert again.json["checks"] == {"database": "unavailable"}
