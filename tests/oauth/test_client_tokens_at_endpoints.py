"""A client's token at the API: admitted where a service may act, refused (403) elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from myapi.models import User
from tests.helpers.http import assert_problem, bearer
from tests.helpers.oauth import Credentials

NOTES = "/api/v1/notes"
ADMIN_USERS = "/api/v1/admin/users"


def assert_user_token_required(response: Any) -> None:
    body = assert_problem(response, 403)
    assert body["type"] == "urn:myapi:problem:user-token-required"


def test_a_client_with_notes_read_reads_every_users_notes(
    client: FlaskClient,
    alice_headers: dict[str, str],
    bob_headers: dict[str, str],
    reader: Credentials,
    client_token: Callable[..., str],
) -> None:
    mine = client.post(NOTES, json={"title": "alice's"}, headers=alice_headers).json
    client.post(NOTES, json={"title": "bob's"}, headers=bob_headers)
    headers = bearer(client_token(reader))

    listing = client.get(NOTES, headers=headers)
    one = client.get(f"{NOTES}/{mine['id']}", headers=headers)

    assert listing.status_code == 200
    assert {note["title"] for note in listing.json["items"]} == {"alice's", "bob's"}
    assert one.status_code == 200
    assert one.json["title"] == "alice's"


def test_users_still_read_only_their_own_notes(
    client: FlaskClient, alice_headers: dict[str, str], bob_headers: dict[str, str]
) -> None:
    theirs = client.post(NOTES, json={"title": "bob's"}, headers=bob_headers).json

    assert client.get(NOTES, headers=alice_headers).json["items"] == []
    assert client.get(f"{NOTES}/{theirs['id']}", headers=alice_headers).status_code == 404


def test_a_missing_note_is_a_404_for_a_client_too(
    client: FlaskClient, reader: Credentials, client_token: Callable[..., str]
) -> None:
    assert client.get(f"{NOTES}/999", headers=bearer(client_token(reader))).status_code == 404


def test_a_client_cannot_write_notes_whatever_its_scope(
    client: FlaskClient, reader: Credentials, client_token: Callable[..., str]
) -> None:
    response = client.post(NOTES, json={"title": "x"}, headers=bearer(client_token(reader)))

    assert_user_token_required(response)


def test_a_client_token_is_refused_where_a_user_is_needed(
    client: FlaskClient, reader: Credentials, client_token: Callable[..., str]
) -> None:
    headers = bearer(client_token(reader))

    for response in (
        client.get("/auth/me", headers=headers),
        client.get("/auth/sessions", headers=headers),
        client.post("/auth/logout", headers=headers),
    ):
        assert_user_token_required(response)


def test_a_client_reads_its_own_token_info(
    client: FlaskClient, reader: Credentials, client_token: Callable[..., str]
) -> None:
    response = client.get("/auth/token-info", headers=bearer(client_token(reader)))

    assert response.status_code == 200
    assert response.json["sub"] == reader.client_id
    assert response.json["fresh"] is False


def test_a_client_with_users_scopes_administers_accounts(
    client: FlaskClient,
    alice: User,
    make_client: Callable[..., Credentials],
    client_token: Callable[..., str],
) -> None:
    headers = bearer(client_token(make_client("users:read users:write")))

    listing = client.get(ADMIN_USERS, headers=headers)
    disabled = client.patch(f"{ADMIN_USERS}/{alice.id}", json={"is_active": False}, headers=headers)

    assert listing.status_code == 200
    assert [user["username"] for user in listing.json["items"]] == ["alice"]
    assert disabled.status_code == 200
    assert disabled.json["is_active"] is False


def test_a_client_without_the_scope_gets_insufficient_scope(
    client: FlaskClient, reader: Credentials, client_token: Callable[..., str]
) -> None:
    response = client.patch(
        f"{ADMIN_USERS}/1", json={"role": "admin"}, headers=bearer(client_token(reader))
    )

    body = assert_problem(response, 403)
    assert body["type"] == "urn:myapi:problem:insufficient-scope"


def test_a_client_token_for_another_audience_is_refused_here(
    client: FlaskClient, make_client: Callable[..., Credentials], client_token: Callable[..., str]
) -> None:
    credentials = make_client("notes:read", audience="https://reports.example.com")

    response = client.get(NOTES, headers=bearer(client_token(credentials)))

    assert response.status_code == 401
