"""Reading the browser-mode answers: the refresh cookie as the browser would see it."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import jwt
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.http import PASSWORD

COOKIE_MODE = {"X-Token-Delivery": "cookie"}


@dataclass
class SetCookie:
    """One Set-Cookie header, split into its name, value and attributes (lower-cased keys)."""

    name: str
    value: str
    attributes: dict[str, str | bool]

    @classmethod
    def parse(cls, header: str) -> SetCookie:
        pair, *rest = [part.strip() for part in header.split(";")]
        name, _, value = pair.partition("=")
        attributes: dict[str, str | bool] = {}
        for part in rest:
            key, sep, val = part.partition("=")
            attributes[key.lower()] = val if sep else True
        return cls(name, value, attributes)


def set_cookies(response: Any) -> list[SetCookie]:
    return [SetCookie.parse(header) for header in response.headers.getlist("Set-Cookie")]


#: Each path whose endpoint reads the refresh cookie gets its own copy of it.
COOKIE_PATHS = ("/auth/refresh", "/auth/logout", "/auth/logout-all")


def refresh_cookie(response: Any) -> SetCookie:
    """The refresh cookie an answer sets: once per reading path, alike but for the path.
    Returns the copy for /auth/refresh."""
    cookies = set_cookies(response)
    assert sorted(cookie.attributes["path"] for cookie in cookies) == sorted(COOKIE_PATHS)

    def without_path(cookie: SetCookie) -> tuple[str, str, dict[str, str | bool]]:
        rest = {k: v for k, v in cookie.attributes.items() if k != "path"}
        return cookie.name, cookie.value, rest

    assert len({repr(without_path(cookie)) for cookie in cookies}) == 1, cookies
    return next(cookie for cookie in cookies if cookie.attributes["path"] == "/auth/refresh")


def browser_login(client: FlaskClient, username: str = "alice", **kwargs: Any) -> Any:
    response = client.post(
        "/auth/login",
        json={"username": username, "password": PASSWORD},
        headers=COOKIE_MODE,
        **kwargs,
    )
    assert response.status_code == 200, response.json
    return response


def cookie_refresh(client: FlaskClient, cookie: SetCookie, csrf: str | None, **kwargs: Any) -> Any:
    """A refresh as the SPA sends it: the cookie, the CSRF header, and no Authorization."""
    return cookie_post(client, "/auth/refresh", cookie, csrf, **kwargs)


def cookie_post(
    client: FlaskClient, path: str, cookie: SetCookie, csrf: str | None, **kwargs: Any
) -> Any:
    """A POST as the SPA sends it by cookie: the cookie, the CSRF header, no Authorization."""
    headers = {"Cookie": f"{cookie.name}={cookie.value}"} | COOKIE_MODE
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    return client.post(path, headers=headers, **kwargs)


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def expected_csrf(app: Flask, session_id: str) -> str:
    key = app.config["JWT_SECRET_KEY"].encode()
    return hmac.new(key, b"csrf:" + session_id.encode(), hashlib.sha256).hexdigest()
