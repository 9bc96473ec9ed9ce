"""Catalogue group I: CORS. The suite's servers allow exactly https://app.example.com."""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.live import Client, Reply
from tests.security.suite import CORS_ORIGIN

ME = "/auth/me"
CORS_RESPONSE_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
)


def preflight(client: Client, path: str, origin: str, method: str = "GET", **extra: str) -> Reply:
    headers = {"Origin": origin, "Access-Control-Request-Method": method} | extra
    return client.request("OPTIONS", path, headers=headers)


def assert_no_cors_grant(reply: Reply) -> None:
    for name in CORS_RESPONSE_HEADERS:
        assert reply.header(name) is None, (name, reply.header(name))


@pytest.mark.parametrize("path", [ME, "/auth/login", "/auth/refresh", "/api/v1/notes"])
def test_I1_a_foreign_origin_gets_no_grant(
    client: Client, alice_tokens: dict[str, Any], path: str
) -> None:
    simple = client.get(
        path, headers={"Origin": "https://evil.example"}, token=alice_tokens["access_token"]
    )
    pre = preflight(
        client,
        path,
        "https://evil.example",
        "POST",
        **{"Access-Control-Request-Headers": "authorization, content-type"},
    )

    assert_no_cors_grant(simple)
    assert_no_cors_grant(pre)


def test_I2_the_null_origin_gets_no_grant(client: Client, alice_tokens: dict[str, Any]) -> None:
    simple = client.get(ME, headers={"Origin": "null"}, token=alice_tokens["access_token"])
    pre = preflight(client, "/auth/refresh", "null", "POST")

    assert_no_cors_grant(simple)
    assert_no_cors_grant(pre)


@pytest.mark.parametrize(
    "origin",
    [
        "https://app.example.com.evil.net",
        "https://evilapp.example.com",
        "http://app.example.com",
        "https://app.example.com:8443",
        "https://APP.example.com.evil.net",
        "https://sub.app.example.com",
    ],
)
def test_I3_lookalike_origins_get_no_grant(client: Client, origin: str) -> None:
    assert_no_cors_grant(client.get(ME, headers={"Origin": origin}))
    assert_no_cors_grant(preflight(client, "/auth/login", origin, "POST"))


def test_I4_the_allowed_origin_is_echoed_exactly_without_credentials_on_bearer_routes(
    client: Client, alice_tokens: dict[str, Any]
) -> None:
    reply = client.get(ME, headers={"Origin": CORS_ORIGIN}, token=alice_tokens["access_token"])

    assert reply.header("Access-Control-Allow-Origin") == CORS_ORIGIN
    assert "Origin" in reply.header("Vary")
    assert reply.header("Access-Control-Allow-Credentials") is None


def test_I4_credentials_only_where_the_refresh_cookie_is_used(client: Client) -> None:
    reply = preflight(
        client,
        "/auth/refresh",
        CORS_ORIGIN,
        "POST",
        **{"Access-Control-Request-Headers": "x-csrf-token"},
    )

    assert reply.header("Access-Control-Allow-Origin") == CORS_ORIGIN
    assert reply.header("Access-Control-Allow-Credentials") == "true"
    assert "Origin" in reply.header("Vary")


def test_I5_unlisted_methods_headers_and_private_network_are_not_granted(
    client: Client,
) -> None:
    reply = preflight(
        client,
        "/api/v1/notes",
        CORS_ORIGIN,
        "PROPFIND",
        **{
            "Access-Control-Request-Headers": "x-evil",
            "Access-Control-Request-Private-Network": "true",
        },
    )

    assert "PROPFIND" not in (reply.header("Access-Control-Allow-Methods") or "")
    assert "x-evil" not in (reply.header("Access-Control-Allow-Headers") or "").lower()
    assert reply.header("Access-Control-Allow-Private-Network") is None


def test_I5_private_network_is_never_granted_even_to_the_allowed_origin(client: Client) -> None:
    reply = preflight(
        client, ME, CORS_ORIGIN, "GET", **{"Access-Control-Request-Private-Network": "true"}
    )

    assert reply.header("Access-Control-Allow-Private-Network") is None
