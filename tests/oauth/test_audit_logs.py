"""Audit events of the OAuth server: what happened and to which client, never a secret or token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
from flask.testing import FlaskClient

from myapi.services.clients import create_client, rotate_secret
from tests.helpers.http import bearer
from tests.helpers.logs import LogLines
from tests.helpers.oauth import (
    INTROSPECT,
    REVOKE,
    TOKEN,
    Credentials,
    basic,
    stored_client,
)


def test_issuing_a_token_is_audited_with_client_scope_and_jti(
    logs: LogLines, reader: Credentials, client_token: Callable[..., str]
) -> None:
    token = client_token(reader, scope="notes:read")

    (event,) = logs.events("oauth_token_issued")
    assert event["client_id"] == reader.client_id
    assert event["scope"] == "notes:read"
    assert event["jti"] == jwt.decode(token, options={"verify_signature": False})["jti"]


def test_the_request_line_names_the_calling_client(
    logs: LogLines, client: FlaskClient, reader: Credentials, client_token: Callable[..., str]
) -> None:
    token = client_token(reader, scope="notes:read")

    response = client.get("/api/v1/notes", headers=bearer(token))

    (line,) = [e for e in logs.requests() if e["request_id"] == response.headers["X-Request-ID"]]
    assert line["client_id"] == reader.client_id
    assert line["user_id"] is None


def test_a_refused_request_is_audited_with_its_error(
    logs: LogLines, client: FlaskClient, reader: Credentials
) -> None:
    client.post(
        TOKEN, data={"grant_type": "client_credentials"}, headers=basic(reader.client_id, "wrong")
    )

    (event,) = logs.events("oauth_request_refused")
    assert event["error"] == "invalid_client"
    assert event["client_id"] == reader.client_id


def test_client_changes_are_audited(logs: LogLines) -> None:
    client, _ = create_client("reporting", "notes:read")
    rotate_secret(stored_client(client.client_id))

    assert logs.events("oauth_client_created")[0]["client_id"] == client.client_id
    assert logs.events("oauth_client_secret_rotated")[0]["client_id"] == client.client_id


def test_no_secret_or_token_is_ever_logged(
    logs: LogLines,
    client: FlaskClient,
    alice_tokens: dict[str, Any],
    make_client: Callable[..., Credentials],
    client_token: Callable[..., str],
) -> None:
    reader = make_client("notes:read introspect")
    token = client_token(reader)
    access = alice_tokens["access_token"]
    client.post(INTROSPECT, data={"token": access}, headers=reader.basic)
    client.post(REVOKE, data={"token": token}, headers=reader.basic)
    client.post(REVOKE, data={"token": access}, headers=bearer(access))
    client.post(
        TOKEN,
        data={"grant_type": "client_credentials", **reader.form, "client_secret": "myapi_cs_typo"},
    )
    new_secret = rotate_secret(stored_client(reader.client_id))

    text = logs.text()
    assert logs.events("token_revoked_on_request")
    for secret in (reader.secret, new_secret, "myapi_cs_typo", token, access, "eyJ"):
        assert secret not in text
