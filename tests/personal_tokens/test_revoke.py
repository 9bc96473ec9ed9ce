"""Revoking PATs: one by DELETE or logout, all by logout-all or a password change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from myapi.models import User
from myapi.security.personal_tokens import PAT_PREFIX
from myapi.services.accounts import delete_user
from tests.helpers.http import PASSWORD, assert_problem, bearer
from tests.helpers.logs import LogLines
from tests.personal_tokens.helpers import INVALID_TOKEN, assert_invalid_token, token_row

NEW_PASSWORD = "a brand new passphrase 42"


def me(client: FlaskClient, token: str) -> Any:
    return client.get("/auth/me", headers=bearer(token))


def test_a_deleted_token_is_refused_at_once(
    client: FlaskClient, alice_headers: dict[str, str], make_pat: Callable[..., Any]
) -> None:
    created = make_pat(alice_headers)
    assert me(client, created["token"]).status_code == 200

    response = client.delete(f"/auth/tokens/{created['id']}", headers=alice_headers)

    assert response.status_code == 204
    assert response.get_data() == b""
    assert_invalid_token(me(client, created["token"]))
    assert token_row(created["id"]).revoked_at is not None


def test_a_revoked_token_leaves_the_listing(
    client: FlaskClient, alice_headers: dict[str, str], make_pat: Callable[..., Any]
) -> None:
    kept = make_pat(alice_headers, name="kept")
    gone = make_pat(alice_headers, name="gone")

    client.delete(f"/auth/tokens/{gone['id']}", headers=alice_headers)

    assert [t["id"] for t in client.get("/auth/tokens", headers=alice_headers).json] == [kept["id"]]


def test_the_listing_shows_only_the_caller_s_tokens_newest_first(
    client: FlaskClient,
    alice_headers: dict[str, str],
    bob_headers: dict[str, str],
    make_pat: Callable[..., Any],
) -> None:
    first = make_pat(alice_headers, name="first")
    second = make_pat(alice_headers, name="second")
    make_pat(bob_headers, name="bob's")

    listing = client.get("/auth/tokens", headers=alice_headers).json

    assert [t["id"] for t in listing] == [second["id"], first["id"]]


def test_a_token_may_revoke_itself(
    client: FlaskClient, alice_headers: dict[str, str], make_pat: Callable[..., Any]
) -> None:
    created = make_pat(alice_headers)

    response = client.delete(f"/auth/tokens/{created['id']}", headers=bearer(created["token"]))

    assert response.status_code == 204
    assert_invalid_token(me(client, created["token"]))


def test_another_user_s_token_is_not_found_and_stays_live(
    client: FlaskClient,
    alice_headers: dict[str, str],
    bob_headers: dict[str, str],
    make_pat: Callable[..., Any],
) -> None:
    alices = make_pat(alice_headers)

    response = client.delete(f"/auth/tokens/{alices['id']}", headers=bob_headers)

    assert_problem(response, 404)
    assert me(client, alices["token"]).status_code == 200


def test_an_unknown_or_already_revoked_token_is_not_found(
    client: FlaskClient, alice_headers: dict[str, str], make_pat: Callable[..., Any]
) -> None:
    created = make_pat(alice_headers)
    client.delete(f"/auth/tokens/{created['id']}", headers=alice_headers)

    assert_problem(client.delete(f"/auth/tokens/{created['id']}", headers=alice_headers), 404)
    assert_problem(client.delete("/auth/tokens/999999", headers=alice_headers), 404)
    assert_problem(client.delete("/auth/tokens/99999999999", headers=alice_headers), 404)


def test_logging_out_with_a_token_revokes_that_token_only(
    client: FlaskClient, alice_headers: dict[str, str], make_pat: Callable[..., Any]
) -> None:
    used = make_pat(alice_headers)["token"]
    other = make_pat(alice_headers)["token"]

    assert client.post("/auth/logout", headers=bearer(used)).status_code == 204

    assert_invalid_token(me(client, used))
    assert me(client, other).status_code == 200
    assert me(client, alice_headers["Authorization"].split()[1]).status_code == 200


def test_logout_all_revokes_every_token(
    client: FlaskClient, alice_headers: dict[str, str], make_pat: Callable[..., Any]
) -> None:
    tokens = [make_pat(alice_headers)["token"] for _ in range(2)]

    assert client.post("/auth/logout-all", headers=alice_headers).status_code == 204

    for token in tokens:
        assert_invalid_token(me(client, token))


def test_a_password_change_revokes_every_token(
    client: FlaskClient, alice_headers: dict[str, str], make_pat: Callable[..., Any]
) -> None:
    token = make_pat(alice_headers)["token"]

    response = client.put(
        "/auth/password",
        headers=alice_headers,
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 204
    assert_invalid_token(me(client, token))
    assert client.get("/auth/tokens", headers=alice_headers).json == []


def test_a_token_cannot_change_the_password(client: FlaskClient, alice_pat: str) -> None:
    response = client.put(
        "/auth/password",
        headers=bearer(alice_pat),
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )

    assert assert_problem(response, 401)["type"].endswith("fresh-login-required")


def test_deleting_the_owner_deletes_the_tokens(
    client: FlaskClient, alice: User, alice_headers: dict[str, str], make_pat: Callable[..., Any]
) -> None:
    created = make_pat(alice_headers)

    delete_user(alice)

    assert token_row(created["id"]) is None
    assert assert_problem(me(client, created["token"]), 401)["type"] == INVALID_TOKEN


def test_revoking_by_the_token_itself_needs_its_owner(
    client: FlaskClient, alice_headers: dict[str, str], bob_headers: dict[str, str], alice_pat: str
) -> None:
    def revoke(token: str, headers: dict[str, str]) -> Any:
        return client.post("/oauth/revoke", data={"token": token}, headers=headers)

    assert revoke(alice_pat, bob_headers).status_code == 200
    assert revoke(PAT_PREFIX + "A" * 43, alice_headers).status_code == 200
    assert revoke("garbage", alice_headers).status_code == 200
    assert me(client, alice_pat).status_code == 200

    assert revoke(alice_pat, alice_headers).status_code == 200
    assert_invalid_token(me(client, alice_pat))


def test_revocation_is_audited_without_the_token(
    client: FlaskClient,
    alice_headers: dict[str, str],
    make_pat: Callable[..., Any],
    logs: LogLines,
) -> None:
    created = make_pat(alice_headers)

    client.delete(f"/auth/tokens/{created['id']}", headers=alice_headers)
    me(client, created["token"])

    [revoked] = logs.events("personal_token_revoked")
    assert revoked["token_id"] == created["id"]
    assert revoked["reason"] == "deleted"
    assert logs.events("personal_token_refused")[0]["reason"] == "revoked"
    assert created["token"][len(PAT_PREFIX) :] not in logs.text()
