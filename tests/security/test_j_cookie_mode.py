"""Catalogue group J: browser mode, where the refresh token lives in an HttpOnly cookie.

A client opts in with `X-Token-Delivery: cookie`; the access token stays in memory and
travels in the Authorization header, so only the refresh cookie is examined here, and J3
shows that the access token never travels in a cookie.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest

from tests.security.expect import assert_invalid_token, assert_no_credentials
from tests.security.live import Client, Reply
from tests.security.suite import Account

BROWSER = {"X-Token-Delivery": "cookie"}
COOKIE = "__Secure-myapi_refresh"
REFRESH_DAYS = 30


def browser_login(client: Client, account: Account) -> Reply:
    reply = client.post(
        "/auth/login",
        json_body={"username": account.username, "password": account.password},
        headers=BROWSER,
    )
    assert reply.status == 200, reply.text
    return reply


def set_cookies(reply: Reply) -> list[str]:
    return reply.headers.get_all("Set-Cookie") or []


def refresh_cookie(reply: Reply) -> tuple[str, str]:
    """(value, the whole Set-Cookie line) of the refresh cookie for `/auth/refresh` (the
    same cookie is also set for the two logout paths, which read it too)."""
    (line,) = [
        c for c in set_cookies(reply) if c.startswith(COOKIE + "=") and "Path=/auth/refresh" in c
    ]
    return SimpleCookie(line)[COOKIE].value, line


def test_J1_refresh_cookie_is_hardened(client: Client, alice: Account) -> None:
    reply = browser_login(client, alice)

    _, line = refresh_cookie(reply)
    attributes = {part.strip().split("=")[0].lower(): part for part in line.split(";")[1:]}
    assert "refresh_token" not in reply.json and reply.json["csrf_token"]
    assert {"secure", "httponly", "path", "samesite", "max-age"} <= set(attributes)
    assert attributes["path"].strip() == "Path=/auth/refresh"
    assert attributes["samesite"].strip().lower() in ("samesite=strict", "samesite=lax")
    assert 0 < int(attributes["max-age"].split("=")[1]) <= REFRESH_DAYS * 86400
    # No cookie for the access token: every cookie is the refresh cookie, for each path whose
    # endpoint reads it.
    paths = sorted(line.split("Path=")[1].split(";")[0] for line in set_cookies(reply))
    assert all(line.startswith(COOKIE + "=") for line in set_cookies(reply))
    assert paths == ["/auth/logout", "/auth/logout-all", "/auth/refresh"]


@pytest.mark.parametrize(
    "csrf", [None, "", "0" * 64, "wrong"], ids=["none", "empty", "zeros", "wrong"]
)
def test_J2_cookie_refresh_without_the_csrf_value_is_refused(
    client: Client, alice: Account, csrf: str | None
) -> None:
    value, _ = refresh_cookie(browser_login(client, alice))
    headers = {"Cookie": f"{COOKIE}={value}"} | ({"X-CSRF-Token": csrf} if csrf is not None else {})

    reply = client.post("/auth/refresh", headers=headers)

    assert_invalid_token(reply)
    assert not set_cookies(reply)


def test_J2_cookie_refresh_with_the_csrf_value_works(client: Client, alice: Account) -> None:
    login = browser_login(client, alice)
    value, _ = refresh_cookie(login)

    reply = client.post(
        "/auth/refresh",
        headers={"Cookie": f"{COOKIE}={value}", "X-CSRF-Token": login.json["csrf_token"]},
    )

    assert reply.status == 200, reply.text
    assert refresh_cookie(reply)[0] != value  # rotated


def test_J2_the_cookie_authenticates_nothing_but_refresh_and_logout(
    client: Client, alice: Account
) -> None:
    login = browser_login(client, alice)
    value, _ = refresh_cookie(login)
    headers = {"Cookie": f"{COOKIE}={value}", "X-CSRF-Token": login.json["csrf_token"]}

    for method, path in [("GET", "/auth/me"), ("POST", "/api/v1/notes"), ("GET", "/auth/sessions")]:
        reply = client.request(method, path, headers=headers, json_body={"title": "x"})
        assert reply.status == 401, (path, reply.status)


@pytest.mark.parametrize("path", ["/auth/logout", "/auth/logout-all"])
@pytest.mark.parametrize("csrf", [None, "", "0" * 64], ids=["none", "empty", "zeros"])
def test_J2_cookie_logout_without_the_csrf_value_is_refused(
    client: Client, alice: Account, path: str, csrf: str | None
) -> None:
    login = browser_login(client, alice)
    value, _ = refresh_cookie(login)
    headers = {"Cookie": f"{COOKIE}={value}"} | ({"X-CSRF-Token": csrf} if csrf is not None else {})

    reply = client.post(path, headers=headers)

    assert reply.status == 401, reply.text
    assert client.get("/auth/me", token=login.json["access_token"]).status == 200


# J3 (a fingerprint cookie against token sidejacking) applies to access tokens kept in
# cookies. Here the access token never travels in one, in either direction.
#: Our own cookie names, flask-jwt-extended's default, and names a client might guess.
ACCESS_COOKIE_NAMES = [
    COOKIE,
    "myapi_refresh",
    "access_token_cookie",
    "access_token",
    "token",
    "jwt",
    "Authorization",
]
RESOURCES = ["/auth/me", "/auth/token-info", "/api/v1/notes"]


def test_J3_the_access_token_never_travels_in_a_cookie(client: Client, alice: Account) -> None:
    login = browser_login(client, alice)
    value, _ = refresh_cookie(login)
    csrf = {"X-CSRF-Token": login.json["csrf_token"]}
    refreshed = client.post("/auth/refresh", headers={"Cookie": f"{COOKIE}={value}"} | csrf)
    assert refreshed.status == 200, refreshed.text
    access = refreshed.json["access_token"]

    as_a_cookie = [
        client.get(path, headers={"Cookie": f"{name}={access}"} | csrf)
        for name in ACCESS_COOKIE_NAMES
        for path in RESOURCES
    ]
    in_the_refresh_cookie = client.post(
        "/auth/refresh", headers={"Cookie": f"{COOKIE}={access}"} | csrf
    )

    for delivery in (login, refreshed):
        assert delivery.json["access_token"]
        assert not [line for line in set_cookies(delivery) if delivery.json["access_token"] in line]
    for reply in as_a_cookie:
        assert_no_credentials(reply)
    assert_invalid_token(in_the_refresh_cookie)
    assert client.get("/auth/me", token=access).status == 200  # the token itself is good


def test_J4_logout_clears_the_refresh_cookie(client: Client, alice: Account) -> None:
    login = browser_login(client, alice)

    reply = client.post("/auth/logout", headers=BROWSER, token=login.json["access_token"])

    assert reply.status == 204
    value, line = refresh_cookie(reply)
    assert value == ""
    assert "Max-Age=0" in line and "Path=/auth/refresh" in line
