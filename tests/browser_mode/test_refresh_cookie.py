"""Browser mode (catalogue group J): the refresh token in an HttpOnly cookie, CSRF-guarded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from myapi import config
from myapi.models import User
from tests.browser_mode.helpers import (
    COOKIE_MODE,
    COOKIE_PATHS,
    browser_login,
    claims,
    cookie_post,
    cookie_refresh,
    expected_csrf,
    refresh_cookie,
    set_cookies,
)
from tests.helpers.http import PASSWORD, assert_problem, bearer, refresh
from tests.helpers.logs import LogLines

LOCAL_SPA = "http://127.0.0.1:5173"
INVALID_TOKEN = 'Bearer realm="myapi", error="invalid_token"'


def test_a_browser_login_sets_a_hardened_refresh_cookie_instead_of_a_body_field(
    app: Flask, client: FlaskClient, alice: User
) -> None:
    response = browser_login(client)

    body = response.json
    assert "refresh_token" not in body
    assert {"access_token", "token_type", "expires_in", "scope", "csrf_token"} <= set(body)
    cookie = refresh_cookie(response)
    assert cookie.name == "__Secure-myapi_refresh"
    assert cookie.attributes["secure"] is True
    assert cookie.attributes["httponly"] is True
    assert cookie.attributes["path"] == "/auth/refresh"
    assert cookie.attributes["samesite"] == "Strict"
    assert "domain" not in cookie.attributes
    max_age = int(cookie.attributes["max-age"])
    assert 0 < max_age <= app.config["REFRESH_TOKEN_DAYS"] * 86400
    refresh_claims = claims(cookie.value)
    assert refresh_claims["type"] == "refresh"
    assert abs(refresh_claims["exp"] - refresh_claims["iat"] - max_age) <= 2
    assert refresh_claims["sid"] == claims(body["access_token"])["sid"]


def test_the_csrf_value_is_bound_to_the_session_and_survives_rotation(
    app: Flask, client: FlaskClient, alice: User
) -> None:
    login = browser_login(client)
    csrf = login.json["csrf_token"]

    rotated = cookie_refresh(client, refresh_cookie(login), csrf)

    assert rotated.status_code == 200, rotated.json
    assert csrf == expected_csrf(app, claims(login.json["access_token"])["sid"])
    assert rotated.json["csrf_token"] == csrf
    assert "refresh_token" not in rotated.json
    new_cookie = refresh_cookie(rotated)
    assert new_cookie.name == "__Secure-myapi_refresh"
    assert new_cookie.value != refresh_cookie(login).value
    assert client.get("/auth/me", headers=bearer(rotated.json["access_token"])).status_code == 200


@pytest.mark.parametrize(
    ("base_url", "origins"),
    [
        ("http://127.0.0.1:5000", [LOCAL_SPA]),
        ("http://localhost:5000", ["http://localhost:5173", LOCAL_SPA]),
        ("http://[::1]:5000", ["http://localhost:5173"]),
    ],
)
def test_a_plain_http_loopback_setup_gets_a_cookie_the_browser_accepts_over_http(
    app: Flask, client: FlaskClient, alice: User, base_url: str, origins: list[str]
) -> None:
    app.config["CORS_ORIGINS"] = origins

    response = browser_login(client, base_url=base_url)

    cookie = refresh_cookie(response)
    assert cookie.name == "myapi_refresh"
    assert "secure" not in cookie.attributes
    assert cookie.attributes["httponly"] is True
    assert cookie.attributes["path"] == "/auth/refresh"


@pytest.mark.parametrize(
    ("base_url", "origins"),
    [
        ("https://127.0.0.1:5000", [LOCAL_SPA]),  # the API itself is on HTTPS
        ("http://127.0.0.1:5000", ["https://app.example.com"]),  # a real SPA origin
        ("http://127.0.0.1:5000", ["https://127.0.0.1:5173"]),  # an https loopback origin
        ("http://127.0.0.1:5000", [LOCAL_SPA, "https://app.example.com"]),
        ("http://api.example.com", [LOCAL_SPA]),  # the API is not on loopback
    ],
)
def test_anything_but_plain_http_on_loopback_gets_a_secure_prefixed_cookie(
    app: Flask, client: FlaskClient, alice: User, base_url: str, origins: list[str]
) -> None:
    app.config["CORS_ORIGINS"] = origins

    cookie = refresh_cookie(browser_login(client, base_url=base_url))

    assert cookie.name == "__Secure-myapi_refresh"
    assert cookie.attributes["secure"] is True


def test_samesite_follows_the_setting(app: Flask, client: FlaskClient, alice: User) -> None:
    app.config["REFRESH_COOKIE_SAMESITE"] = "Lax"

    assert refresh_cookie(browser_login(client)).attributes["samesite"] == "Lax"


@pytest.mark.parametrize(("raw", "value"), [("strict", "Strict"), ("LAX", "Lax"), ("None", "None")])
def test_the_samesite_setting_is_read_case_insensitively(
    monkeypatch: pytest.MonkeyPatch, raw: str, value: str
) -> None:
    monkeypatch.setenv("REFRESH_COOKIE_SAMESITE", raw)

    samesite = config.Testing().REFRESH_COOKIE_SAMESITE

    assert samesite == value


def test_an_unknown_samesite_value_stops_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFRESH_COOKIE_SAMESITE", "sometimes")

    with pytest.raises(config.ConfigError, match="REFRESH_COOKIE_SAMESITE"):
        config.Testing()


def test_the_default_samesite_is_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REFRESH_COOKIE_SAMESITE", raising=False)

    samesite = config.Testing().REFRESH_COOKIE_SAMESITE

    assert samesite == "Strict"


@pytest.mark.parametrize("csrf", [None, "", "0" * 64, "not-hex"])
def test_a_cookie_refresh_without_the_right_csrf_header_is_refused(
    client: FlaskClient, alice: User, csrf: str | None
) -> None:
    login = browser_login(client)

    response = cookie_refresh(client, refresh_cookie(login), csrf)

    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == INVALID_TOKEN
    assert set_cookies(response) == []
    # Nothing was rotated or revoked: the cookie still works with the right value.
    assert (
        cookie_refresh(client, refresh_cookie(login), login.json["csrf_token"]).status_code == 200
    )


def test_another_sessions_csrf_value_does_not_unlock_this_cookie(
    client: FlaskClient, alice: User, bob: User
) -> None:
    alice_login = browser_login(client)
    bob_login = browser_login(client, "bob")

    response = cookie_refresh(client, refresh_cookie(alice_login), bob_login.json["csrf_token"])

    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == INVALID_TOKEN


def test_a_forged_cookie_with_its_own_csrf_value_is_still_verified(
    app: Flask, client: FlaskClient, alice: User
) -> None:
    cookie = refresh_cookie(browser_login(client))
    header, payload, _signature = cookie.value.split(".")
    cookie.value = f"{header}.{payload}.{'A' * 43}"

    response = cookie_refresh(client, cookie, expected_csrf(app, claims(cookie.value)["sid"]))

    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == INVALID_TOKEN


@pytest.mark.parametrize(
    "value",
    [
        "not-a-token",
        "a.b.c",
        "e30",
        "eyJhbGciOiJIUzI1NiJ9.W10.c2ln",
        "eyJhbGciOiJIUzI1NiJ9.bnVsbA.c2ln",
    ],
)
@pytest.mark.parametrize("path", COOKIE_PATHS)
def test_a_cookie_that_is_no_token_is_a_401_not_a_500(
    client: FlaskClient, alice: User, logs: LogLines, value: str, path: str
) -> None:
    cookie = refresh_cookie(browser_login(client))
    cookie.value = value  # not a JWT, a JSON array or null for claims, ...

    response = cookie_post(client, path, cookie, "0" * 64)

    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == INVALID_TOKEN
    assert [event["reason"] for event in logs.events("token_rejected")] == ["malformed"]


def test_the_cookie_is_read_on_post_only(client: FlaskClient, alice: User) -> None:
    # Flask answers OPTIONS on every route; the cookie (with no CSRF value here) plays no part.
    cookie = refresh_cookie(browser_login(client))

    response = client.options(
        "/auth/refresh", headers={"Cookie": f"{cookie.name}={cookie.value}"} | COOKIE_MODE
    )

    assert response.status_code == 200
    assert "POST" in response.headers["Allow"]


def test_reusing_a_rotated_cookie_after_the_grace_window_revokes_the_session(
    app: Flask, client: FlaskClient, alice: User
) -> None:
    app.config["REFRESH_GRACE_SECONDS"] = -1  # every second presentation is past the window
    login = browser_login(client)
    csrf = login.json["csrf_token"]
    rotated = cookie_refresh(client, refresh_cookie(login), csrf)
    assert rotated.status_code == 200

    reuse = cookie_refresh(client, refresh_cookie(login), csrf)

    assert_problem(reuse, 401)
    assert cookie_refresh(client, refresh_cookie(rotated), csrf).status_code == 401


def test_a_bearer_refresh_ignores_the_cookie(client: FlaskClient, alice: User) -> None:
    login = browser_login(client)
    other = client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    cookie = refresh_cookie(login)

    response = client.post(
        "/auth/refresh",
        headers=bearer(other.json["refresh_token"]) | {"Cookie": f"{cookie.name}={cookie.value}"},
    )

    assert response.status_code == 200
    assert (
        claims(response.json["refresh_token"])["sid"] == claims(other.json["access_token"])["sid"]
    )
    assert set_cookies(response) == []


def test_a_refresh_with_neither_cookie_nor_bearer_is_unauthenticated(
    client: FlaskClient,
) -> None:
    response = client.post("/auth/refresh", headers=COOKIE_MODE | {"X-CSRF-Token": "x"})

    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="myapi"'


@pytest.mark.parametrize("path", ["/auth/logout", "/auth/logout-all"])
def test_a_browser_logout_expires_the_cookie_and_the_session(
    client: FlaskClient, alice: User, path: str
) -> None:
    login = browser_login(client)

    response = client.post(path, headers=bearer(login.json["access_token"]) | COOKIE_MODE)

    assert response.status_code == 204
    cleared = refresh_cookie(response)
    assert cleared.name == "__Secure-myapi_refresh"
    assert cleared.value == ""
    assert cleared.attributes["max-age"] == "0"
    assert cleared.attributes["path"] == "/auth/refresh"
    assert (
        cookie_refresh(client, refresh_cookie(login), login.json["csrf_token"]).status_code == 401
    )


@pytest.mark.parametrize("path", ["/auth/logout", "/auth/logout-all"])
def test_a_browser_without_a_live_access_token_logs_out_with_the_cookie(
    client: FlaskClient, alice: User, path: str
) -> None:
    # The laptop slept past the access token's life: the page holds only what the browser
    # kept, the cookie and the CSRF value, and sends no Authorization header.
    login = browser_login(client)
    cookie, csrf = refresh_cookie(login), login.json["csrf_token"]

    response = cookie_post(client, path, cookie, csrf)

    assert response.status_code == 204
    assert refresh_cookie(response).attributes["max-age"] == "0"
    assert cookie_refresh(client, cookie, csrf).status_code == 401
    assert client.get("/auth/me", headers=bearer(login.json["access_token"])).status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/auth/me"),
        ("GET", "/api/v1/notes"),
        ("POST", "/api/v1/notes"),
        ("GET", "/auth/sessions"),
    ],
)
def test_the_refresh_cookie_authenticates_nothing_but_refresh_and_logout(
    client: FlaskClient, alice: User, method: str, path: str
) -> None:
    # The cookie is path-scoped, but a client may send it anywhere: only the endpoints that
    # ask for it read it.
    login = browser_login(client)
    cookie = refresh_cookie(login)
    headers = {"Cookie": f"{cookie.name}={cookie.value}", "X-CSRF-Token": login.json["csrf_token"]}

    response = client.open(path, method=method, headers=headers | COOKIE_MODE, json={"body": "x"})

    assert_problem(response, 401)


def test_logout_everywhere_by_cookie_ends_the_other_sessions_too(
    client: FlaskClient, alice: User
) -> None:
    browser = browser_login(client)
    phone = client.post("/auth/login", json={"username": "alice", "password": PASSWORD})

    response = cookie_post(
        client, "/auth/logout-all", refresh_cookie(browser), browser.json["csrf_token"]
    )

    assert response.status_code == 204
    assert client.get("/auth/me", headers=bearer(phone.json["access_token"])).status_code == 401


@pytest.mark.parametrize("csrf", [None, "", "0" * 64])
def test_a_logout_by_cookie_without_the_right_csrf_value_changes_nothing(
    client: FlaskClient, alice: User, csrf: str | None
) -> None:
    login = browser_login(client)

    response = cookie_post(client, "/auth/logout", refresh_cookie(login), csrf)

    assert_problem(response, 401)
    assert set_cookies(response) == []
    assert client.get("/auth/me", headers=bearer(login.json["access_token"])).status_code == 200


def test_a_failed_logout_leaves_the_cookie_alone(client: FlaskClient) -> None:
    response = client.post("/auth/logout", headers=bearer("not-a-token") | COOKIE_MODE)

    assert_problem(response, 401)
    assert set_cookies(response) == []


def test_a_failed_browser_login_sets_no_cookie(client: FlaskClient, alice: User) -> None:
    response = client.post(
        "/auth/login",
        json={"username": "alice", "password": "wrong password entirely"},
        headers=COOKIE_MODE,
    )

    assert_problem(response, 401)
    assert set_cookies(response) == []


# --- the pure bearer flow is unchanged ------------------------------------------------------


@pytest.mark.parametrize("delivery", [None, "body", "cookies", ""])
def test_without_browser_mode_the_tokens_are_in_the_body_and_no_cookie_is_set(
    client: FlaskClient,
    alice: User,
    login: Callable[..., dict[str, Any]],
    delivery: str | None,
) -> None:
    headers = {} if delivery is None else {"X-Token-Delivery": delivery}

    response = client.post(
        "/auth/login", json={"username": "alice", "password": PASSWORD}, headers=headers
    )
    rotated = refresh(client, response.json["refresh_token"])
    logout = client.post("/auth/logout", headers=bearer(rotated.json["access_token"]))

    assert response.status_code == 200
    assert set(response.json) == {
        "access_token",
        "refresh_token",
        "token_type",
        "expires_in",
        "scope",
    }
    assert set(rotated.json) == set(response.json)
    assert logout.status_code == 204
    for answer in (response, rotated, logout):
        assert set_cookies(answer) == []
