"""CORS for the browser app (catalogue group I): credentials for the listed origin only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from myapi import config, create_app
from myapi.extensions import db
from myapi.services.accounts import register
from tests.browser_mode.helpers import COOKIE_MODE
from tests.helpers.http import PASSWORD

SPA = "https://app.example.com"
COOKIE_PATHS = ["/auth/login", "/auth/refresh", "/auth/logout", "/auth/logout-all"]
REFUSED_ORIGINS = [
    "https://evil.example",
    "null",
    "https://app.example.com.evil.net",  # the suffix trick
    "https://evilapp.example.com",
    "http://app.example.com",  # scheme changed
    "https://app.example.com:8443",
    "https://APP.example.com.evil.net",
]


@pytest.fixture
def spa_app() -> Iterator[Flask]:
    app = create_app(config.Testing(CORS_ORIGINS=[SPA]))
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()


@pytest.fixture
def spa_client(spa_app: Flask) -> FlaskClient:
    return spa_app.test_client(use_cookies=False)


def cors_headers(response: object) -> dict[str, str]:
    return {
        name.lower(): value
        for name, value in response.headers.items()  # type: ignore[attr-defined]
        if name.lower().startswith("access-control-")
    }


def preflight(client: FlaskClient, path: str, origin: str, **headers: str) -> object:
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-csrf-token,x-token-delivery",
            **headers,
        },
    )


def listed(values: str) -> set[str]:
    return {value.strip().lower() for value in values.split(",")}


@pytest.mark.parametrize("path", COOKIE_PATHS)
def test_a_preflight_from_the_spa_allows_credentials_and_the_browser_mode_headers(
    spa_client: FlaskClient, path: str
) -> None:
    response = preflight(spa_client, path, SPA)

    headers = cors_headers(response)
    assert response.status_code < 300
    assert headers["access-control-allow-origin"] == SPA
    assert headers["access-control-allow-credentials"] == "true"
    assert {"x-csrf-token", "x-token-delivery", "content-type"} <= listed(
        headers["access-control-allow-headers"]
    )
    assert int(headers["access-control-max-age"]) > 0
    assert "origin" in listed(response.headers["Vary"])  # type: ignore[attr-defined]


def test_only_the_methods_and_headers_the_api_uses_are_allowed(spa_client: FlaskClient) -> None:
    response = preflight(
        spa_client,
        "/auth/refresh",
        SPA,
        **{"Access-Control-Request-Headers": "x-csrf-token,x-evil,cookie"},
    )

    headers = cors_headers(response)
    assert listed(headers["access-control-allow-methods"]) == {
        "get",
        "post",
        "put",
        "patch",
        "delete",
    }
    assert listed(headers["access-control-allow-headers"]) == {"x-csrf-token"}


def test_a_private_network_preflight_gets_no_private_network_answer(
    spa_client: FlaskClient,
) -> None:
    response = preflight(
        spa_client, "/auth/refresh", SPA, **{"Access-Control-Request-Private-Network": "true"}
    )

    assert "access-control-allow-private-network" not in cors_headers(response)
    assert cors_headers(response)["access-control-allow-origin"] == SPA


def test_a_browser_login_from_the_spa_may_set_its_cookie(spa_client: FlaskClient) -> None:
    register("alice", "alice@example.com", PASSWORD)

    response = spa_client.post(
        "/auth/login",
        json={"username": "alice", "password": PASSWORD},
        headers={"Origin": SPA} | COOKIE_MODE,
    )

    assert response.status_code == 200
    assert cors_headers(response)["access-control-allow-origin"] == SPA
    assert cors_headers(response)["access-control-allow-credentials"] == "true"


@pytest.mark.parametrize("path", ["/auth/me", "/api/v1/notes", "/healthz"])
def test_endpoints_that_never_use_the_cookie_do_not_allow_credentials(
    spa_client: FlaskClient, path: str
) -> None:
    response = spa_client.get(path, headers={"Origin": SPA})

    assert cors_headers(response)["access-control-allow-origin"] == SPA
    assert "access-control-allow-credentials" not in cors_headers(response)


@pytest.mark.parametrize("origin", REFUSED_ORIGINS)
@pytest.mark.parametrize("path", COOKIE_PATHS)
def test_any_other_origin_gets_no_cors_headers_on_the_cookie_endpoints(
    spa_client: FlaskClient, origin: str, path: str
) -> None:
    options = preflight(spa_client, path, origin)
    post = spa_client.post(path, headers={"Origin": origin})

    assert cors_headers(options) == {}
    assert cors_headers(post) == {}
