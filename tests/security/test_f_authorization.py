"""Catalogue group F: authorization of objects, properties and functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.security.expect import assert_generic_problem, assert_insufficient_scope, resign
from tests.security.live import Client, Server
from tests.security.suite import Account, login


def test_F1_another_users_note_is_a_404_for_every_method(
    client: Client, alice_tokens: dict[str, Any], bob_tokens: dict[str, Any]
) -> None:
    created = client.post(
        "/api/v1/notes",
        json_body={"title": "bob's", "body": "private"},
        token=bob_tokens["access_token"],
    )
    assert created.status == 201, created.text
    path = f"/api/v1/notes/{created.json['id']}"
    alice = alice_tokens["access_token"]

    replies = [
        client.get(path, token=alice),
        client.patch(path, json_body={"title": "mine now"}, token=alice),
        client.delete(path, token=alice),
    ]

    for reply in replies:
        assert_generic_problem(reply, 404)
        assert "private" not in reply.text
    still = client.get(path, token=bob_tokens["access_token"])
    assert still.json["title"] == "bob's"


def test_F1_guessing_ids_finds_nothing_of_anyone_else(
    client: Client, make_account: Callable[..., Account], bob_tokens: dict[str, Any]
) -> None:
    client.post("/api/v1/notes", json_body={"title": "bob's"}, token=bob_tokens["access_token"])
    newcomer = make_account("newcomer")
    token = login(client, newcomer.username, newcomer.password)["access_token"]

    statuses = {client.get(f"/api/v1/notes/{n}", token=token).status for n in range(1, 31)}
    listing = client.get("/api/v1/notes", token=token).json

    assert statuses == {404}
    assert listing["items"] == [] and listing["total"] == 0


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/admin/users", None),
        ("GET", "/api/v1/admin/users/1", None),
        ("PATCH", "/api/v1/admin/users/1", {"role": "user"}),
    ],
)
def test_F2_user_token_on_admin_routes_is_insufficient_scope(
    client: Client, alice_tokens: dict[str, Any], method: str, path: str, body: Any
) -> None:
    reply = client.request(method, path, json_body=body, token=alice_tokens["access_token"])

    assert_insufficient_scope(reply)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/api/v1/admin/users/1"),
        ("DELETE", "/api/v1/admin/users/1"),
        ("POST", "/api/v1/admin/users"),
        ("DELETE", "/api/v1/admin/users"),
    ],
)
def test_F2_user_token_on_unrouted_admin_methods_is_refused(
    client: Client, alice_tokens: dict[str, Any], method: str, path: str
) -> None:
    reply = client.request(method, path, json_body={}, token=alice_tokens["access_token"])

    # The method does not exist at all, for anyone: 405 with Allow, never 2xx.
    assert_generic_problem(reply, 405)
    assert reply.header("Allow")


MASS_ASSIGNMENT = {
    "role": "admin",
    "is_admin": True,
    "id": 1,
    "password_hash": "x",
    "tenant_id": 2,
    "is_active": True,
    "owner_id": 1,
}


def test_F3_mass_assignment_at_registration_is_refused(live: Server) -> None:
    client = live.as_client()
    body = {"username": "massassign", "email": "m@example.com", "password": "a fine passphrase"}

    reply = client.post("/auth/register", json_body=body | MASS_ASSIGNMENT)

    problem = assert_generic_problem(reply, 422)
    assert set(MASS_ASSIGNMENT) <= set(problem["errors"])
    assert (
        client.post("/auth/login", json_body={"username": "massassign", "password": "x"}).status
        == 401
    )


def test_F3_mass_assignment_on_notes_is_refused(
    client: Client, alice_tokens: dict[str, Any]
) -> None:
    token = alice_tokens["access_token"]
    note = client.post("/api/v1/notes", json_body={"title": "mine"}, token=token).json

    created = client.post("/api/v1/notes", json_body={"title": "t"} | MASS_ASSIGNMENT, token=token)
    patched = client.patch(
        f"/api/v1/notes/{note['id']}", json_body={"title": "t"} | MASS_ASSIGNMENT, token=token
    )

    for reply in (created, patched):
        problem = assert_generic_problem(reply, 422)
        assert set(MASS_ASSIGNMENT) <= set(problem["errors"])
    assert client.get(f"/api/v1/notes/{note['id']}", token=token).json["title"] == "mine"


def test_F3_there_is_no_writable_me(client: Client, alice_tokens: dict[str, Any]) -> None:
    token = alice_tokens["access_token"]

    for method in ("PATCH", "PUT"):
        reply = client.request(method, "/auth/me", json_body=MASS_ASSIGNMENT, token=token)
        assert_generic_problem(reply, 405)
    assert client.get("/auth/me", token=token).json["role"] == "user"


FORBIDDEN_KEYS = {"password", "password_hash", "hash", "jti", "access_jti", "refresh_jti"}


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_F4_read_endpoints_expose_no_secrets_or_other_users(
    client: Client,
    alice: Account,
    bob: Account,
    alice_tokens: dict[str, Any],
    admin_tokens: dict[str, Any],
) -> None:
    token = alice_tokens["access_token"]
    client.post("/api/v1/notes", json_body={"title": "t"}, token=token)
    user_reads = [
        client.get(path, token=token)
        for path in (
            *("/auth/me", "/auth/token-info", "/auth/sessions", "/auth/grants"),
            "/api/v1/notes",
        )
    ]
    admin_read = client.get("/api/v1/admin/users?per_page=100", token=admin_tokens["access_token"])

    for reply in [*user_reads, admin_read]:
        assert reply.status == 200, reply.text
        assert not _keys(reply.json) & FORBIDDEN_KEYS
        assert "scrypt:" not in reply.text and "pbkdf2:" not in reply.text
    for reply in user_reads:
        assert bob.email not in reply.text and bob.username not in reply.text
    assert set(user_reads[0].json) == {
        "id", "username", "email", "email_verified", "role", "is_active", "created_at"
    }  # fmt: skip


@pytest.mark.parametrize("aud", ["service-a", "https://billing.example.com"])
def test_F5_token_for_another_service_is_refused(
    client: Client, live: Server, alice_tokens: dict[str, Any], aud: str
) -> None:
    token = resign(alice_tokens["access_token"], live.secret, aud=aud)

    for path in ("/auth/me", "/api/v1/notes"):
        reply = client.get(path, token=token)
        assert reply.status == 401
        assert 'error="invalid_token"' in reply.header("WWW-Authenticate")
