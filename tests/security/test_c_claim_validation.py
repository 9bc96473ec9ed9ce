"""Catalogue group C: claim validation, signed with the real key (an issuer's mistake).

The suite configured the server's key itself (conftest `jwt_secret`), so these tokens
pass the signature check and only the claim rules can reject them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest

from tests.security.expect import assert_invalid_token, claims_of, now, resign
from tests.security.live import Client, Server
from tests.security.suite import Account, login

ME = "/auth/me"


def test_C1_expired_beyond_the_leeway(
    client: Client, live: Server, alice_tokens: dict[str, Any]
) -> None:
    token = resign(alice_tokens["access_token"], live.secret, exp=now() - 15)

    assert_invalid_token(client.get(ME, token=token))


def test_C2_no_exp(client: Client, live: Server, alice_tokens: dict[str, Any]) -> None:
    token = resign(alice_tokens["access_token"], live.secret, exp=None)

    assert_invalid_token(client.get(ME, token=token))


def test_C3_nbf_in_the_future(client: Client, live: Server, alice_tokens: dict[str, Any]) -> None:
    token = resign(alice_tokens["access_token"], live.secret, nbf=now() + 60)

    assert_invalid_token(client.get(ME, token=token))


def test_C4_iat_in_the_future(client: Client, live: Server, alice_tokens: dict[str, Any]) -> None:
    token = resign(
        alice_tokens["access_token"], live.secret, iat=now() + 3600, exp=now() + 3600 + 600
    )

    assert_invalid_token(client.get(ME, token=token))


@pytest.mark.parametrize("aud", ["other-service", ["other-service"], "myapi.evil", ""])
def test_C5_audience_of_another_service(
    client: Client, live: Server, alice_tokens: dict[str, Any], aud: Any
) -> None:
    token = resign(alice_tokens["access_token"], live.secret, aud=aud)

    assert_invalid_token(client.get(ME, token=token))


def test_C6_audience_missing(client: Client, live: Server, alice_tokens: dict[str, Any]) -> None:
    token = resign(alice_tokens["access_token"], live.secret, aud=None)

    assert_invalid_token(client.get(ME, token=token))


@pytest.mark.parametrize("iss", ["https://auth.example.evil", "urn:", "myap", "", None])
def test_C7_foreign_partial_or_missing_issuer(
    client: Client, live: Server, alice_tokens: dict[str, Any], iss: Any
) -> None:
    token = alice_tokens["access_token"]
    forged = (
        resign(token, live.secret, iss=iss)
        if iss is not None
        else resign(token, live.secret, iss=None)
    )

    assert_invalid_token(client.get(ME, token=forged))


def test_C8_subject_unknown(client: Client, live: Server, alice_tokens: dict[str, Any]) -> None:
    token = resign(alice_tokens["access_token"], live.secret, sub="2147483000")

    assert_invalid_token(client.get(ME, token=token))


def test_C8_subject_disabled_by_an_admin(
    client: Client, live: Server, make_account: Callable[..., Account], admin_tokens: dict[str, Any]
) -> None:
    carol = make_account("carol")
    tokens = login(client, carol.username, carol.password)
    disabled = client.patch(
        f"/api/v1/admin/users/{carol.id}",
        json_body={"is_active": False},
        token=admin_tokens["access_token"],
    )
    assert disabled.status == 200, disabled.text
    # Re-signed with the real key and a new jti: still the disabled account's subject.
    token = resign(tokens["access_token"], live.secret, jti=secrets.token_hex(16))

    assert_invalid_token(client.get(ME, token=token))
    assert_invalid_token(client.get(ME, token=tokens["access_token"]))


def test_C9_refresh_token_at_a_resource(client: Client, alice_tokens: dict[str, Any]) -> None:
    assert_invalid_token(client.get(ME, token=alice_tokens["refresh_token"]))
    assert_invalid_token(client.get("/api/v1/notes", token=alice_tokens["refresh_token"]))


def test_C10_access_token_at_refresh(client: Client, alice_tokens: dict[str, Any]) -> None:
    assert_invalid_token(client.post("/auth/refresh", token=alice_tokens["access_token"]))


@pytest.mark.parametrize("kind", ["password_reset", "email_verify", "reset", "verify", "id"])
def test_C11_other_token_kind_used_as_an_access_token(
    client: Client, live: Server, alice_tokens: dict[str, Any], kind: str
) -> None:
    token = resign(alice_tokens["access_token"], live.secret, type=kind)

    assert_invalid_token(client.get(ME, token=token))


def test_C11_other_typ_header_used_as_an_access_token(
    client: Client, live: Server, alice_tokens: dict[str, Any]
) -> None:
    import jwt

    claims = claims_of(alice_tokens["access_token"]) | {"type": "password_reset"}
    token = jwt.encode(claims, live.secret, algorithm="HS256", headers={"typ": "reset+jwt"})

    assert_invalid_token(client.get(ME, token=token))


def test_C12_overlong_access_token(
    client: Client, live: Server, alice_tokens: dict[str, Any]
) -> None:
    token = resign(alice_tokens["access_token"], live.secret, exp=now() + 30 * 86400)

    assert_invalid_token(client.get(ME, token=token))


def test_C13_no_jti(client: Client, live: Server, alice_tokens: dict[str, Any]) -> None:
    token = resign(alice_tokens["access_token"], live.secret, jti=None)

    assert_invalid_token(client.get(ME, token=token))


@pytest.mark.parametrize("padding", ["=", "==", "%3D"])
def test_C14_non_canonical_form_of_a_revoked_token(
    client: Client, alice_tokens: dict[str, Any], padding: str
) -> None:
    token = alice_tokens["access_token"]
    assert client.post("/auth/logout", token=token).status == 204

    reply = client.get(ME, headers={"Authorization": f"Bearer {token}{padding}"})

    assert reply.status == 401, reply.text


def test_C14_revoked_token_with_a_padded_payload(
    client: Client, alice_tokens: dict[str, Any]
) -> None:
    token = alice_tokens["access_token"]
    header, payload, signature = token.split(".")
    assert client.post("/auth/logout", token=token).status == 204

    for variant in (f"{header}=.{payload}.{signature}", f"{header}.{payload}=.{signature}"):
        assert client.get(ME, token=variant).status == 401


def test_C15_non_fresh_token_cannot_change_the_password(
    client: Client, alice: Account, alice_tokens: dict[str, Any]
) -> None:
    refreshed = client.post("/auth/refresh", token=alice_tokens["refresh_token"]).json

    reply = client.put(
        "/auth/password",
        json_body={"current_password": alice.password, "new_password": "a brand new passphrase"},
        token=refreshed["access_token"],
    )

    assert reply.status == 401
    assert 'error="insufficient_user_authentication"' in reply.header("WWW-Authenticate")
    assert login(client, alice.username, alice.password)  # unchanged
