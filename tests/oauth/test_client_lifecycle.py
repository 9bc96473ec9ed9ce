"""Client changes bite at once: rotating, disabling, deleting, narrowing scope."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from myapi.models import User
from myapi.services.clients import (
    delete_client,
    rotate_secret,
    set_client_active,
    set_client_scope,
)
from tests.helpers.http import assert_problem, bearer
from tests.helpers.oauth import Credentials, assert_oauth_error, stored_client

NOTES = "/api/v1/notes"


def test_rotating_the_secret_revokes_the_clients_live_tokens_at_once(
    client: FlaskClient,
    reader: Credentials,
    client_token: Callable[..., str],
    get_token: Callable[..., Any],
) -> None:
    headers = bearer(client_token(reader))
    assert client.get(NOTES, headers=headers).status_code == 200

    new_secret = rotate_secret(stored_client(reader.client_id))

    assert client.get(NOTES, headers=headers).status_code == 401
    assert_oauth_error(get_token(reader), 401, "invalid_client")
    assert get_token(Credentials(reader.client_id, new_secret)).status_code == 200


def test_disabling_a_client_revokes_its_tokens_and_enabling_revives_none(
    client: FlaskClient, reader: Credentials, client_token: Callable[..., str]
) -> None:
    headers = bearer(client_token(reader))

    set_client_active(stored_client(reader.client_id), False)
    refused = client.get(NOTES, headers=headers)
    set_client_active(stored_client(reader.client_id), True)

    assert refused.status_code == 401
    assert client.get(NOTES, headers=headers).status_code == 401
    assert client.get(NOTES, headers=bearer(client_token(reader))).status_code == 200


def test_deleting_a_client_revokes_its_tokens(
    client: FlaskClient, reader: Credentials, client_token: Callable[..., str]
) -> None:
    headers = bearer(client_token(reader))

    delete_client(stored_client(reader.client_id))

    assert client.get(NOTES, headers=headers).status_code == 401


def test_a_scope_taken_from_a_client_stops_working_at_once(
    client: FlaskClient, alice: User, reader: Credentials, client_token: Callable[..., str]
) -> None:
    headers = bearer(client_token(reader))

    set_client_scope(stored_client(reader.client_id), "notes:read")

    assert client.get(NOTES, headers=headers).status_code == 200
    body = assert_problem(client.get("/api/v1/admin/users", headers=headers), 403)
    assert body["type"] == "urn:myapi:problem:insufficient-scope"


def test_the_secret_is_stored_only_as_its_sha256(reader: Credentials) -> None:
    record = stored_client(reader.client_id)

    assert reader.secret.startswith("myapi_cs_")
    assert reader.client_id.startswith("client_")
    assert record.secret_hash == hashlib.sha256(reader.secret.encode()).hexdigest()
    assert reader.secret not in (record.secret_hash, record.credential_id)
