"""GET /metrics: present only when enabled, in the Prometheus text format, unlisted, unlimited."""

from __future__ import annotations

from flask.testing import FlaskClient

from myapi import create_app
from myapi.config import Testing
from tests.helpers.http import assert_problem

METRIC_NAMES = (
    "myapi_http_requests_total",
    "myapi_http_request_duration_seconds",
    "myapi_auth_events_total",
    "myapi_dependency_errors_total",
)


def test_metrics_route_does_not_exist_when_metrics_are_disabled() -> None:
    client = create_app(Testing(METRICS_ENABLED=False)).test_client()

    response = client.get("/metrics")

    assert_problem(response, 404)


def test_metrics_are_served_in_the_prometheus_text_format_when_enabled(
    client: FlaskClient,
) -> None:
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    for name in METRIC_NAMES:
        assert f"# TYPE {name} " in text


def test_building_a_second_app_in_the_same_process_reuses_the_metrics(
    client: FlaskClient,
) -> None:
    second = create_app(Testing(METRICS_ENABLED=True)).test_client()

    response = second.get("/metrics")

    assert response.status_code == 200


def test_metrics_route_is_not_in_the_openapi_document(client: FlaskClient) -> None:
    document = client.get("/openapi.json").json

    assert not [path for path in document["paths"] if "metrics" in path]


def test_metrics_route_is_never_rate_limited() -> None:
    app = create_app(Testing(METRICS_ENABLED=True, RATELIMIT_DEFAULT="2 per minute"))
    client = app.test_client()
    default_limit = int(client.get("/auth/me").headers["X-RateLimit-Limit"])

    scrapes = [client.get("/metrics") for _ in range(default_limit + 1)]

    assert {response.status_code for response in scrapes} == {200}
    assert all("X-RateLimit-Limit" not in response.headers for response in scrapes)
