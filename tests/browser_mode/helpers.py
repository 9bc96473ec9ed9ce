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


def only_cookie(response: Any) -> SetCookie:
    cookies = set_cookies(response)
    assert len(cookies) == 1, cookies
    return cookies[0]


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
    headers = {"Cookie": f"{cookie.name}={cookie.value}"} | COOKIE_MODE
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    return client.post("/auth/refresh", headers=headers, **kwargs)


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def expected_csrf(app: Flask, session_id: str) -> str:
    key = app.config["JWT_SECRET_KEY"].encode()
    return hmac.new(key, b"csrf:" + session_id.encode(), hashlib.sha256).hexdigest()
