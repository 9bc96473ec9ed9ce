"""How a token is presented (catalogue group A) and the RFC 6750 challenge each mistake earns."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.helpers.http import assert_problem, bearer
from tests.policy.helpers import (
    INVALID_REQUEST_CHALLENGE,
    assert_each_invalid_token,
    assert_each_no_credentials,
    assert_no_credentials,
)

ME = "/auth/me"


def test_a_request_without_credentials_gets_a_bare_bearer_challenge(client: FlaskClient) -> None:
    response = client.get(ME)

    body = assert_no_credentials(response)
    assert "error" not in response.headers["WWW-Authenticate"]
    assert body["detail"] == "This operation needs a bearer token in the Authorization header."


def test_an_unsupported_scheme_counts_as_no_credentials(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    token = alice_tokens["access_token"]

    assert_each_no_credentials(
        {
            scheme: client.get(ME, headers={"Authorization": f"{scheme} {token}"})
            for scheme in ("Basic", "Token", "JWT", "Digest")
        }
    )


def test_the_bearer_scheme_is_matched_case_insensitively(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    token = alice_tokens["access_token"]

    responses = {
        scheme: client.get(ME, headers={"Authorization": f"{scheme} {token}"})
        for scheme in ("bearer", "BEARER", "bEaReR")
    }

    assert {scheme: r.status_code for scheme, r in responses.items()} == {
        "bearer": 200,
        "BEARER": 200,
        "bEaReR": 200,
    }
    assert all(r.json["username"] == "alice" for r in responses.values())


def test_a_malformed_bearer_value_is_an_invalid_token(client: FlaskClient) -> None:
    values = {
        "empty": "",
        "word": "abc",
        "two segments": "a.b",
        "garbage segments": "a.b.c",
        "json-serialized": '{"payload":"e30","signature":"AAAA"}',
        "whitespace": "eyJhbGciOiJIUzI1NiJ9 .e30.AAAA",
    }

    assert_each_invalid_token(
        {
            case: client.get(ME, headers={"Authorization": f"Bearer {value}".rstrip()})
            for case, value in values.items()
        }
    )


def test_a_token_only_in_the_query_string_is_ignored(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    token = alice_tokens["access_token"]

    assert_each_no_credentials(
        {
            parameter: client.get(ME, query_string={parameter: token})
            for parameter in ("access_token", "jwt", "token")
        }
    )


def test_a_token_only_in_the_json_body_is_ignored(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    response = client.post("/auth/logout", json={"access_token": alice_tokens["access_token"]})

    assert_no_credentials(response)
    # The session survived: the body token was not used for anything.
    assert client.get(ME, headers=bearer(alice_tokens["access_token"])).status_code == 200


def test_a_token_in_the_header_and_the_query_string_is_an_invalid_request(
    client: FlaskClient, alice_tokens: dict[str, Any], alice_headers: dict[str, str]
) -> None:
    response = client.get(
        ME, headers=alice_headers, query_string={"access_token": alice_tokens["access_token"]}
    )

    body = assert_problem(response, 400)
    assert response.headers["WWW-Authenticate"] == INVALID_REQUEST_CHALLENGE
    assert body["type"] == "urn:myapi:problem:invalid-request"
    assert "username" not in body


def test_a_token_in_the_header_and_the_query_string_changes_nothing(
    client: FlaskClient, alice_tokens: dict[str, Any], alice_headers: dict[str, str]
) -> None:
    response = client.post(
        "/auth/logout",
        headers=alice_headers,
        query_string={"access_token": alice_tokens["access_token"]},
    )

    assert_problem(response, 400)
    assert client.get(ME, headers=alice_headers).status_code == 200


def test_two_bearer_tokens_in_one_header_are_an_invalid_request(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    token = alice_tokens["access_token"]

    response = client.get(ME, headers={"Authorization": f"Bearer {token}, bearer {token}"})

    body = assert_problem(response, 400)
    assert body["type"] == "urn:myapi:problem:invalid-request"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="myapi", error="invalid_request"'


@pytest.mark.parametrize("first", ["Basic YWxpY2U6eA==", "Basic x", "Digest a=b", "Negotiate x"])
def test_a_bearer_token_after_another_credential_never_authenticates(
    client: FlaskClient, alice_tokens: dict[str, Any], first: str
) -> None:
    token = alice_tokens["access_token"]

    response = client.get(ME, headers={"Authorization": f"{first}, Bearer {token}"})

    assert assert_problem(response, 400)["type"] == "urn:myapi:problem:invalid-request"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="myapi", error="invalid_request"'


def test_a_token_without_the_scope_gets_an_insufficient_scope_challenge(
    client: FlaskClient, alice_headers: dict[str, str]
) -> None:
    response = client.get("/api/v1/admin/users", headers=alice_headers)

    body = assert_problem(response, 403)
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="myapi", error="insufficient_scope", scope="users:read"'
    )
    assert body["type"] == "urn:myapi:problem:insufficient-scope"
    assert "users:read" in body["detail"]
    assert "items" not in body


def test_the_same_endpoint_answers_a_token_holding_the_scope(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    response = client.get("/api/v1/admin/users", headers=admin_headers)

    assert response.status_code == 200


def test_a_token_narrowed_at_login_is_refused_the_scopes_it_gave_up(
    client: FlaskClient, alice: Any, login: Any
) -> None:
    tokens = login("alice", scope="notes:read")

    write = client.post(
        "/api/v1/notes", headers=bearer(tokens["access_token"]), json={"title": "x"}
    )
    read = client.get("/api/v1/notes", headers=bearer(tokens["access_token"]))

    assert_problem(write, 403)
    assert write.headers["WWW-Authenticate"] == (
        'Bearer realm="myapi", error="insufficient_scope", scope="notes:write"'
    )
    assert read.status_code == 200


def test_the_refresh_endpoint_without_credentials_gets_a_bare_challenge(
    client: FlaskClient,
) -> None:
    assert_no_credentials(client.post("/auth/refresh"))


def test_the_library_422_never_reaches_a_client(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    # flask-jwt-extended answers these with 422 {"msg": ...} by default (catalogue M1).
    endpoints = [
        ("GET", "/auth/me"),
        ("GET", "/auth/token-info"),
        ("GET", "/auth/sessions"),
        ("POST", "/auth/logout"),
        ("POST", "/auth/logout-all"),
        ("POST", "/auth/refresh"),
        ("GET", "/api/v1/notes"),
        ("GET", "/api/v1/admin/users"),
    ]
    responses = {}
    for method, path in endpoints:
        wrong_kind = alice_tokens["access_token" if path == "/auth/refresh" else "refresh_token"]
        for label, value in (
            ("garbage", "not-a-jwt"),
            ("bad segments", "a.b.c"),
            ("wrong kind", wrong_kind),
        ):
            response = client.open(path, method=method, headers=bearer(value))
            responses[f"{method} {path} with {label}"] = response

    assert [case for case, r in responses.items() if r.status_code == 422] == []
    assert_each_invalid_token(responses)
