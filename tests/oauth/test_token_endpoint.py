"""POST /oauth/token: the client credentials grant and its RFC 6749 5.2 errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
from flask import Flask
from flask.testing import FlaskClient

from myapi.app import create_app
from myapi.config import Testing
from myapi.extensions import db
from myapi.services.clients import create_client, set_client_active
from tests.helpers.oauth import (
    TOKEN,
    Credentials,
    assert_oauth_error,
    basic,
    stored_client,
)


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def test_a_client_gets_an_access_token_with_http_basic(
    app: Flask, reader: Credentials, get_token: Callable[..., Any]
) -> None:
    response = get_token(reader)

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.json
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == app.config["CLIENT_TOKEN_MINUTES"] * 60
    assert body["scope"] == "notes:read users:read"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


def test_a_client_gets_an_access_token_with_client_secret_post(
    client: FlaskClient, reader: Credentials
) -> None:
    response = client.post(TOKEN, data={"grant_type": "client_credentials", **reader.form})

    assert response.status_code == 200
    assert response.json["token_type"] == "Bearer"


def test_the_token_names_the_client_its_credential_and_audience(
    app: Flask, make_client: Callable[..., Credentials], client_token: Callable[..., str]
) -> None:
    credentials = make_client("notes:read", audience="https://reports.example.com")

    claims = claims_of(client_token(credentials))

    record = stored_client(credentials.client_id)
    assert claims["sub"] == claims["client_id"] == credentials.client_id
    assert claims["sid"] == record.credential_id
    assert claims["aud"] == "https://reports.example.com"
    assert claims["iss"] == app.config["JWT_ISSUER"]
    assert claims["type"] == "access"
    assert claims["fresh"] is False
    assert claims["exp"] - claims["iat"] == app.config["CLIENT_TOKEN_MINUTES"] * 60


def test_the_audience_defaults_to_this_apis(
    app: Flask, reader: Credentials, client_token: Callable[..., str]
) -> None:
    assert claims_of(client_token(reader))["aud"] == app.config["JWT_AUDIENCE"]


def test_no_refresh_token_is_issued(reader: Credentials, get_token: Callable[..., Any]) -> None:
    assert "refresh_token" not in get_token(reader).json


def test_a_narrower_scope_can_be_requested(
    reader: Credentials, get_token: Callable[..., Any]
) -> None:
    response = get_token(reader, scope="users:read")

    assert response.status_code == 200
    assert response.json["scope"] == "users:read"
    assert claims_of(response.json["access_token"])["scope"] == "users:read"


def test_a_scope_outside_the_clients_allowance_is_invalid_scope(
    reader: Credentials, get_token: Callable[..., Any]
) -> None:
    for scope in ("users:write", "notes:read notes:write", "admin", "notes:read introspect"):
        assert_oauth_error(get_token(reader, scope=scope), 400, "invalid_scope")


def test_a_scope_not_written_as_the_document_says_is_invalid_scope(
    reader: Credentials, get_token: Callable[..., Any]
) -> None:
    # Within the allowance, but not known scopes separated by spaces (the published pattern).
    for scope in ("notes:read\tusers:read", "notes:read\n", "", "notes:read,users:read"):
        assert_oauth_error(get_token(reader, scope=scope), 400, "invalid_scope")


def test_a_wrong_secret_is_invalid_client_with_a_basic_challenge(
    client: FlaskClient, reader: Credentials
) -> None:
    response = client.post(
        TOKEN,
        data={"grant_type": "client_credentials"},
        headers=basic(reader.client_id, reader.secret + "x"),
    )

    assert_oauth_error(response, 401, "invalid_client")


def test_a_wrong_secret_in_the_form_is_invalid_client_too(
    client: FlaskClient, reader: Credentials
) -> None:
    data = {"grant_type": "client_credentials", "client_id": reader.client_id}
    response = client.post(TOKEN, data=data | {"client_secret": "myapi_cs_guess"})

    assert_oauth_error(response, 401, "invalid_client")


def test_an_unknown_client_is_invalid_client(client: FlaskClient) -> None:
    response = client.post(
        TOKEN,
        data={"grant_type": "client_credentials"},
        headers=basic("client_000000000000000000000000", "myapi_cs_guess"),
    )

    assert_oauth_error(response, 401, "invalid_client")


def test_every_client_authentication_failure_reads_alike(
    client: FlaskClient, reader: Credentials
) -> None:
    data = {"grant_type": "client_credentials"}
    unknown = client.post(TOKEN, data=data, headers=basic("client_" + "0" * 24, "myapi_cs_x"))
    wrong = client.post(TOKEN, data=data, headers=basic(reader.client_id, "myapi_cs_x"))
    missing = client.post(TOKEN, data=data)

    descriptions = {
        assert_oauth_error(response, 401, "invalid_client")["error_description"]
        for response in (unknown, wrong, missing)
    }
    assert len(descriptions) == 1
    assert "[" not in descriptions.pop()


def test_a_disabled_client_is_invalid_client(
    reader: Credentials, get_token: Callable[..., Any]
) -> None:
    set_client_active(stored_client(reader.client_id), False)

    assert_oauth_error(get_token(reader), 401, "invalid_client")


def test_missing_client_authentication_is_invalid_client(client: FlaskClient) -> None:
    response = client.post(TOKEN, data={"grant_type": "client_credentials"})

    assert_oauth_error(response, 401, "invalid_client")


def test_a_user_bearer_token_is_no_client_authentication(
    client: FlaskClient, alice_headers: dict[str, str]
) -> None:
    response = client.post(TOKEN, data={"grant_type": "client_credentials"}, headers=alice_headers)

    assert_oauth_error(response, 401, "invalid_client")


def test_an_unknown_grant_type_is_unsupported_grant_type(
    reader: Credentials, get_token: Callable[..., Any]
) -> None:
    assert_oauth_error(
        get_token(reader, grant_type="urn:example:magic"), 400, "unsupported_grant_type"
    )


def test_the_password_grant_is_not_offered(
    alice: Any, reader: Credentials, get_token: Callable[..., Any]
) -> None:
    response = get_token(
        reader, grant_type="password", username="alice", password="correct horse battery staple"
    )

    assert_oauth_error(response, 400, "unsupported_grant_type")


def test_a_service_client_cannot_use_the_authorization_code_grant(
    reader: Credentials, get_token: Callable[..., Any]
) -> None:
    response = get_token(reader, grant_type="authorization_code", code="abc")

    assert_oauth_error(response, 400, "unauthorized_client")


def test_a_missing_grant_type_is_invalid_request(client: FlaskClient, reader: Credentials) -> None:
    response = client.post(TOKEN, data={"scope": "notes:read"}, headers=reader.basic)

    assert_oauth_error(response, 400, "invalid_request")


def test_a_json_body_is_refused_as_the_wrong_media_type(
    client: FlaskClient, reader: Credentials
) -> None:
    response = client.post(TOKEN, json={"grant_type": "client_credentials"}, headers=reader.basic)

    assert response.status_code == 415


def test_unknown_parameters_are_ignored(reader: Credentials, get_token: Callable[..., Any]) -> None:
    assert get_token(reader, resource="https://elsewhere.example.com").status_code == 200


def test_the_token_endpoint_is_limited_per_client(
    app: Flask, make_client: Callable[..., Credentials], get_token: Callable[..., Any]
) -> None:
    # The limit is read per request, so the setting applies from the next request on.
    app.config["OAUTH_TOKEN_LIMIT_PER_CLIENT"] = "3 per minute"
    busy, quiet = make_client("notes:read"), make_client("notes:read")

    issued = [get_token(busy).status_code for _ in range(3)]
    refused = get_token(busy)

    assert issued == [200, 200, 200]
    assert refused.status_code == 429
    assert get_token(quiet).status_code == 200


def test_the_per_client_limit_counts_client_secret_post_alike(
    app: Flask, client: FlaskClient, make_client: Callable[..., Credentials]
) -> None:
    app.config["OAUTH_TOKEN_LIMIT_PER_CLIENT"] = "2 per minute"
    busy = make_client("notes:read")
    data = {"grant_type": "client_credentials", **busy.form}

    statuses = [client.post(TOKEN, data=data).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_failed_attempts_do_not_use_up_a_clients_limit(
    app: Flask, client: FlaskClient, reader: Credentials, get_token: Callable[..., Any]
) -> None:
    # Client ids are not secret: counting failures would let anyone lock a client out.
    app.config["OAUTH_TOKEN_LIMIT_PER_CLIENT"] = "2 per minute"
    wrong = basic(reader.client_id, "myapi_cs_guess")

    for _ in range(5):
        client.post(TOKEN, data={"grant_type": "client_credentials"}, headers=wrong)

    assert get_token(reader).status_code == 200


def test_http_basic_and_a_form_secret_together_are_invalid_request(
    client: FlaskClient, reader: Credentials
) -> None:
    data = {"grant_type": "client_credentials", **reader.form}

    response = client.post(TOKEN, data=data, headers=reader.basic)

    assert_oauth_error(response, 400, "invalid_request")


def test_a_form_client_id_naming_another_client_than_http_basic_is_invalid_request(
    client: FlaskClient, make_client: Callable[..., Credentials]
) -> None:
    mine, theirs = make_client("notes:read"), make_client("notes:read")
    data = {"grant_type": "client_credentials", "client_id": theirs.client_id}

    response = client.post(TOKEN, data=data, headers=mine.basic)

    assert_oauth_error(response, 400, "invalid_request")


def test_the_same_client_id_in_http_basic_and_the_form_is_accepted(
    reader: Credentials, get_token: Callable[..., Any]
) -> None:
    assert get_token(reader, client_id=reader.client_id).status_code == 200


def test_another_clients_id_in_http_basic_cannot_spend_its_limit(
    app: Flask, client: FlaskClient, make_client: Callable[..., Credentials]
) -> None:
    # The outside tester's attack: the victim's id in Basic with a wrong secret, the
    # attacker's own credentials in the form, until the victim's limit is spent.
    app.config["OAUTH_TOKEN_LIMIT_PER_CLIENT"] = "3 per minute"
    victim, attacker = make_client("notes:read"), make_client("notes:read")
    data = {"grant_type": "client_credentials", **attacker.form}
    attacker_address = {"REMOTE_ADDR": "198.51.100.7"}

    answers = [
        client.post(
            TOKEN,
            data=data,
            headers=basic(victim.client_id, "myapi_cs_wrong"),
            environ_base=attacker_address,
        ).status_code
        for _ in range(5)
    ]
    victims_own = client.post(
        TOKEN,
        data={"grant_type": "client_credentials"},
        headers=victim.basic,
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )

    assert answers == [400] * 5
    assert victims_own.status_code == 200


def test_failed_client_authentications_count_against_the_address() -> None:
    app = create_app(Testing(RATELIMIT_DEFAULT="3 per minute"))
    with app.app_context():
        db.create_all()
        wrong = basic(create_client("reporting", "notes:read")[0].client_id, "myapi_cs_guess")
    client = app.test_client()

    answers = [
        client.post(TOKEN, data={"grant_type": "client_credentials"}, headers=wrong).status_code
        for _ in range(4)
    ]

    assert answers == [401, 401, 401, 429]


def test_two_credentials_in_the_authorization_header_are_an_oauth_invalid_request(
    client: FlaskClient, reader: Credentials
) -> None:
    header = reader.basic["Authorization"] + ", Bearer not.a.token"

    response = client.post(
        TOKEN, data={"grant_type": "client_credentials"}, headers={"Authorization": header}
    )

    assert_oauth_error(response, 400, "invalid_request")
