"""CORS (catalogue group I): only the configured SPA origin, exactly, and never credentials."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from myapi import config, create_app

SPA = "https://app.example.com"


def cors_headers(response: object) -> dict[str, str]:
    return {
        name: value
        for name, value in response.headers.items()  # type: ignore[attr-defined]
        if name.lower().startswith("access-control-")
    }


def vary(response: object) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("Vary", "").split(",")}  # type: ignore[attr-defined]


@pytest.fixture
def cors_app() -> Flask:
    return create_app(config.Testing(CORS_ORIGINS=[SPA]))


@pytest.fixture
def cors_client(cors_app: Flask) -> FlaskClient:
    return cors_app.test_client()


def preflight(client: FlaskClient, origin: str, **headers: str) -> object:
    return client.options(
        "/auth/me",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Authorization",
            **headers,
        },
    )


@pytest.mark.parametrize("path", ["/healthz", "/auth/me"])
def test_the_listed_origin_gets_exactly_its_own_origin_back(
    cors_client: FlaskClient, path: str
) -> None:
    response = cors_client.get(path, headers={"Origin": SPA})

    assert response.headers["Access-Control-Allow-Origin"] == SPA
    assert "origin" in vary(response)
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_the_listed_origin_can_read_the_request_id_and_rate_limit_headers(
    cors_client: FlaskClient,
) -> None:
    response = cors_client.get("/healthz", headers={"Origin": SPA})

    exposed = {
        h.strip().lower() for h in response.headers["Access-Control-Expose-Headers"].split(",")
    }
    assert {"x-request-id", "retry-after"} <= exposed


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "null",
        "https://app.example.com.evil.net",
        "https://evilapp.example.com",
        "http://app.example.com",
        "https://app.example.com:8443",
        "https://APP.example.com.evil.net",
        "https://APP.example.com",
        "HTTPS://app.example.com",
        "https://app.example.COM",
        "*",
    ],
)
def test_any_other_origin_gets_no_cors_grant(cors_client: FlaskClient, origin: str) -> None:
    response = cors_client.get("/auth/me", headers={"Origin": origin})

    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", "https://app.example.com.evil.net"]
)
def test_a_preflight_from_another_origin_gets_no_cors_grant(
    cors_client: FlaskClient, origin: str
) -> None:
    response = preflight(cors_client, origin)

    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Methods" not in response.headers
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_a_preflight_from_the_listed_origin_is_granted_and_cacheable(
    cors_client: FlaskClient,
) -> None:
    response = preflight(cors_client, SPA)

    assert response.status_code < 300
    assert response.headers["Access-Control-Allow-Origin"] == SPA
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Access-Control-Allow-Private-Network" not in response.headers


def test_a_preflight_never_grants_private_network_access(cors_client: FlaskClient) -> None:
    response = preflight(cors_client, SPA, **{"Access-Control-Request-Private-Network": "true"})

    # flask-cors answers the request header with "false"; only "true" would grant access.
    assert response.headers.get("Access-Control-Allow-Private-Network", "false") != "true"
    assert response.headers["Access-Control-Allow-Origin"] == SPA


def test_a_preflight_does_not_grant_an_unlisted_request_header(cors_client: FlaskClient) -> None:
    response = preflight(cors_client, SPA, **{"Access-Control-Request-Headers": "X-Evil"})

    assert "x-evil" not in response.headers.get("Access-Control-Allow-Headers", "").lower()


def test_an_error_answer_to_the_listed_origin_is_readable_by_it(cors_client: FlaskClient) -> None:
    response = cors_client.get("/auth/me", headers={"Origin": SPA})

    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == SPA


@pytest.mark.parametrize("path", ["/healthz", "/auth/me", "/auth/refresh"])
def test_a_request_without_origin_gets_no_cors_headers(cors_client: FlaskClient, path: str) -> None:
    response = cors_client.get(path)

    assert cors_headers(response) == {}


def test_without_configured_origins_there_are_no_cors_headers_at_all(client: FlaskClient) -> None:
    simple = client.get("/healthz", headers={"Origin": SPA})
    options = preflight(client, SPA, **{"Access-Control-Request-Private-Network": "true"})

    assert cors_headers(simple) == {}
    assert cors_headers(options) == {}
