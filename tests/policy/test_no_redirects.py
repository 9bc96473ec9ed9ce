"""No answer redirects, so no answer can send a client and its credentials to the Host it named."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from myapi import config, create_app
from tests.helpers.http import assert_problem

EVIL = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}


@pytest.fixture
def behind_a_proxy() -> FlaskClient:
    """HTTPS-only behind one proxy: the setup in which the outside tester got a 308."""
    app = create_app(config.Testing(HTTPS_ONLY=True, TRUSTED_PROXIES=1))
    return app.test_client()


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "DELETE"])
def test_a_doubled_slash_is_a_404_without_location(
    behind_a_proxy: FlaskClient, method: str
) -> None:
    response = behind_a_proxy.open(
        "/auth//login",
        method=method,
        json={"username": "alice", "password": "secret"},
        headers=EVIL | {"X-Forwarded-Proto": "https", "Authorization": "Bearer x.y.z"},
    )

    assert_problem(response, 404)
    assert "Location" not in response.headers


def test_no_route_redirects_from_any_spelling_of_its_path(app: Flask, client: FlaskClient) -> None:
    paths = {rule.rule for rule in app.url_map.iter_rules() if "<" not in rule.rule}
    spellings = {
        spelling
        for path in paths
        for spelling in (path + "/", path.rstrip("/"), "/" + path, path.replace("/", "//", 2))
    }

    # As the server would receive them: a test client would read `//x` as a host name.
    statuses = {
        path: client.get("/", headers=EVIL, environ_overrides={"PATH_INFO": path}).status_code
        for path in sorted(spellings)
    }

    assert not {path: status for path, status in statuses.items() if 300 <= status < 400}
