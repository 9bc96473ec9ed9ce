"""Catalogue group A: how the token is presented (RFC 6750, RFC 9110)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.policy.helpers import b64url_json
from tests.security.expect import (
    assert_generic_problem,
    assert_invalid_request,
    assert_invalid_token,
    assert_no_credentials,
)
from tests.security.live import Client

ME = "/auth/me"


def test_A1_no_authorization_gets_a_bare_challenge(client: Client) -> None:
    reply = client.get(ME)

    assert_no_credentials(reply)
    assert "error" not in reply.header("WWW-Authenticate")


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "Bearer abc", "Bearer a.b"])
def test_A2_empty_or_malformed_bearer_is_an_invalid_token(client: Client, value: str) -> None:
    reply = client.get(ME, headers={"Authorization": value})

    if reply.status == 400:  # the catalogue allows 400-IR for the empty value
        assert_invalid_request(reply)
    else:
        assert_invalid_token(reply)


@pytest.mark.parametrize("scheme", ["Basic", "Token"])
def test_A3_unsupported_scheme_counts_as_no_credentials(
    client: Client, alice_tokens: dict[str, Any], scheme: str
) -> None:
    reply = client.get(ME, headers={"Authorization": f"{scheme} {alice_tokens['access_token']}"})

    assert_no_credentials(reply)


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "bEaReR"])
def test_A4_bearer_scheme_is_case_insensitive(
    client: Client, alice_tokens: dict[str, Any], scheme: str
) -> None:
    reply = client.get(ME, headers={"Authorization": f"{scheme} {alice_tokens['access_token']}"})

    assert reply.status == 200, reply.text


@pytest.mark.parametrize("parameter", ["access_token", "jwt", "token"])
def test_A5_token_only_in_the_url_is_ignored(
    client: Client, alice_tokens: dict[str, Any], parameter: str
) -> None:
    reply = client.get(f"{ME}?{parameter}={alice_tokens['access_token']}")

    assert_no_credentials(reply)


def test_A5_token_only_in_the_json_body_is_ignored(
    client: Client, alice_tokens: dict[str, Any]
) -> None:
    reply = client.post("/auth/logout", json_body={"access_token": alice_tokens["access_token"]})

    assert_no_credentials(reply)
    assert client.get(ME, token=alice_tokens["access_token"]).status == 200


def test_A6_token_in_header_and_query_is_an_invalid_request(
    client: Client, alice_tokens: dict[str, Any]
) -> None:
    token = alice_tokens["access_token"]

    reply = client.get(f"{ME}?access_token={token}", token=token)

    assert_invalid_request(reply)


def test_A6_token_in_header_and_form_body_is_refused(
    client: Client, alice_tokens: dict[str, Any]
) -> None:
    token = alice_tokens["access_token"]

    reply = client.post(
        "/auth/logout",
        body=f"access_token={token}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        token=token,
    )

    assert reply.status in (400, 415), reply.text
    assert client.get(ME, token=token).status == 200  # the logout did not happen


def test_A7_two_bearer_tokens_in_one_header_are_never_accepted(
    client: Client, alice_tokens: dict[str, Any], bob_tokens: dict[str, Any]
) -> None:
    value = f"Bearer {alice_tokens['access_token']}, Bearer {bob_tokens['access_token']}"

    reply = client.get(ME, headers={"Authorization": value})

    # The catalogue asks for 400-IR or any 401; this API answers 400-IR (RFC 6750 3.1).
    assert reply.status == 400, reply.text
    assert 'error="invalid_request"' in reply.header("WWW-Authenticate", "")


def test_A7_two_authorization_headers_are_never_accepted(
    client: Client, alice_tokens: dict[str, Any], bob_tokens: dict[str, Any]
) -> None:
    headers = [
        ("Authorization", f"Bearer {alice_tokens['access_token']}"),
        ("Authorization", f"Bearer {bob_tokens['access_token']}"),
    ]

    reply = client.get(ME, headers=headers)

    assert reply.status in (400, 401), reply.text
    assert reply.header("WWW-Authenticate", "").startswith("Bearer realm=")


def _json_serialized_jws(token: str) -> str:
    header, payload, signature = token.split(".")
    return json.dumps({"payload": payload, "protected": header, "signature": signature})


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t.replace(".", ".{", 1),
        lambda t: t[:20] + '"' + t[20:],
        lambda t: t[:20] + " " + t[20:],
        lambda t: t[:20] + "\t" + t[20:],
        _json_serialized_jws,
        lambda t: b64url_json({"alg": "HS256"}) + "." + t,
    ],
    ids=["brace", "quote", "space", "tab", "json-serialization", "extra-segment"],
)
def test_A8_non_compact_token_is_an_invalid_token(
    client: Client, alice_tokens: dict[str, Any], mangle: Any
) -> None:
    reply = client.get(
        ME, headers={"Authorization": "Bearer " + mangle(alice_tokens["access_token"])}
    )

    assert_invalid_token(reply)


@pytest.mark.parametrize("size", [16 * 1024, 64 * 1024])
def test_A9_oversized_authorization_header_is_refused_by_gunicorn(
    client: Client, size: int
) -> None:
    reply = client.get(ME, headers={"Authorization": "Bearer " + "a" * size})

    assert_generic_problem(reply, 431)
