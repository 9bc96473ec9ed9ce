"""What is counted: every request under its URL rule, and audit and dependency events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from myapi import create_app
from myapi.config import Testing
from myapi.extensions import db
from myapi.models import User
from tests.metrics.helpers import NOTE_RULE, sample_value, scrape

REQUESTS = "myapi_http_requests_total"
DURATION_COUNT = "myapi_http_request_duration_seconds_count"
AUTH_EVENTS = "myapi_auth_events_total"
DEPENDENCY_ERRORS = "myapi_dependency_errors_total"
UNREACHABLE_DATABASE = "sqlite:////nonexistent-dir/x.db"


def test_a_request_is_counted_under_its_rule_method_and_status(client: FlaskClient) -> None:
    labels = {"endpoint": "/auth/me", "method": "GET", "status": "401"}
    before = sample_value(client, REQUESTS, **labels)

    client.get("/auth/me")

    assert sample_value(client, REQUESTS, **labels) == before + 1


def test_a_request_duration_is_observed_under_its_rule_and_method(client: FlaskClient) -> None:
    labels = {"endpoint": "/auth/me", "method": "GET"}
    before = sample_value(client, DURATION_COUNT, **labels)

    client.get("/auth/me")

    assert sample_value(client, DURATION_COUNT, **labels) == before + 1


def test_a_path_with_an_id_is_counted_under_its_rule_not_its_path(client: FlaskClient) -> None:
    labels = {"endpoint": NOTE_RULE, "method": "GET", "status": "401"}
    before = sample_value(client, REQUESTS, **labels)

    client.get("/api/v1/notes/123")

    assert sample_value(client, REQUESTS, **labels) == before + 1
    assert not [s for s in scrape(client) if "123" in "".join(s.labels.values())]


def test_a_path_matching_no_route_is_counted_as_unmatched(client: FlaskClient) -> None:
    labels = {"endpoint": "unmatched", "method": "GET", "status": "404"}
    before = sample_value(client, REQUESTS, **labels)

    client.get("/no/such/path/4242")

    assert sample_value(client, REQUESTS, **labels) == before + 1
    assert not [s for s in scrape(client) if "4242" in "".join(s.labels.values())]


def test_a_nonstandard_method_is_counted_as_other(client: FlaskClient) -> None:
    labels = {"endpoint": "unmatched", "method": "other", "status": "405"}
    before = sample_value(client, REQUESTS, **labels)

    client.open("/auth/me", method="BREW")

    assert sample_value(client, REQUESTS, **labels) == before + 1
    assert not [s for s in scrape(client) if s.labels.get("method") == "BREW"]


def test_a_failed_login_counts_a_login_failed_event(client: FlaskClient) -> None:
    before = sample_value(client, AUTH_EVENTS, event="login_failed")

    response = client.post("/auth/login", json={"username": "nobody", "password": "x" * 12})

    assert response.status_code == 401
    assert sample_value(client, AUTH_EVENTS, event="login_failed") == before + 1


def test_a_successful_login_counts_a_login_succeeded_event(
    client: FlaskClient, alice: User, login: Callable[..., dict[str, Any]]
) -> None:
    before = sample_value(client, AUTH_EVENTS, event="login_succeeded")

    login("alice")

    assert sample_value(client, AUTH_EVENTS, event="login_succeeded") == before + 1


def test_a_request_failing_on_the_database_counts_a_database_error() -> None:
    app = create_app(Testing(METRICS_ENABLED=True, SQLALCHEMY_DATABASE_URI=UNREACHABLE_DATABASE))
    client = app.test_client()
    before = sample_value(client, DEPENDENCY_ERRORS, dependency="database")

    response = client.post("/auth/login", json={"username": "alice", "password": "x" * 12})

    assert response.status_code == 503
    assert sample_value(client, DEPENDENCY_ERRORS, dependency="database") == before + 1
    with app.app_context():
        db.engine.dispose()


def test_requests_to_an_app_without_metrics_record_nothing(app: Flask) -> None:
    quiet = create_app(Testing(METRICS_ENABLED=False)).test_client()
    labels = {"endpoint": "/healthz", "method": "GET", "status": "200"}
    before = sample_value(app.test_client(), REQUESTS, **labels)

    quiet.get("/healthz")

    assert sample_value(app.test_client(), REQUESTS, **labels) == before
