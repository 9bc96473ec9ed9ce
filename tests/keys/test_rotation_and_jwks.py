"""Rotation never ends a live token; the JWKS publishes exactly the keys that verify."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

from myapi.extensions import db
from myapi.models import User
from myapi.security import key_ring
from myapi.security.key_ring import forget_key_ring
from myapi.services.signing_keys import generate_key, retire_key, rotate_keys
from tests.auth.observe import assert_invalid_token, claims, me
from tests.helpers.clock import Clock
from tests.helpers.http import PASSWORD, assert_problem, refresh
from tests.keys.observe import (
    PRIVATE_JWK_MEMBERS,
    header,
    key_in,
    published_kids,
    signed_by,
)


def test_a_token_from_the_old_key_still_works_after_rotation(
    client: FlaskClient, alice_tokens: dict[str, Any], keys_cli: Callable[..., Result]
) -> None:
    keys_cli("generate")

    keys_cli("rotate")

    assert me(client, alice_tokens["access_token"]).status_code == 200
    renewed = refresh(client, alice_tokens["refresh_token"])
    assert renewed.status_code == 200
    assert header(renewed.json["access_token"])["kid"] == key_in("current").kid


def test_new_tokens_carry_the_new_kid_after_rotation(
    client: FlaskClient,
    alice: User,
    login: Callable[..., dict[str, Any]],
    keys_cli: Callable[..., Result],
) -> None:
    old = header(login("alice")["access_token"])["kid"]
    keys_cli("generate")
    upcoming = key_in("next").kid

    keys_cli("rotate")

    token = login("alice")["access_token"]
    assert header(token)["kid"] == upcoming != old
    assert me(client, token).status_code == 200


def test_forcing_the_old_key_into_retirement_ends_its_tokens(
    client: FlaskClient, alice_tokens: dict[str, Any], keys_cli: Callable[..., Result]
) -> None:
    keys_cli("rotate")

    keys_cli("retire", key_in("previous").kid, "--force")

    assert_invalid_token(me(client, alice_tokens["access_token"]))
    assert_invalid_token(refresh(client, alice_tokens["refresh_token"]))


def test_jwks_publishes_the_next_current_and_previous_keys(
    client: FlaskClient, keys_cli: Callable[..., Result]
) -> None:
    keys_cli("rotate")
    keys_cli("generate")

    response = client.get("/.well-known/jwks.json")

    assert response.status_code == 200
    published = {jwk["kid"]: jwk for jwk in response.json["keys"]}
    assert set(published) == {key_in(state).kid for state in ("previous", "current", "next")}
    # The key to use first, then the one coming, then the one going.
    order = [jwk["kid"] for jwk in response.json["keys"]]
    assert order == [key_in(state).kid for state in ("current", "next", "previous")]
    for jwk in published.values():
        assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("EC", "P-256", "ES256", "sig")


def test_jwks_withdraws_retired_keys_and_previous_keys_from_publish_until_on(
    client: FlaskClient, keys_cli: Callable[..., Result], clock: Clock
) -> None:
    keys_cli("rotate")
    keys_cli("retire", key_in("previous").kid, "--force")
    keys_cli("rotate")
    expired = key_in("previous")
    expired.publish_until = clock.now
    db.session.commit()
    forget_key_ring()

    assert published_kids(client) == {key_in("current").kid}


@pytest.mark.parametrize("algorithm", ["ES256", "RS256", "EdDSA"])
def test_jwks_never_carries_a_private_member(
    client: FlaskClient, keys_cli: Callable[..., Result], algorithm: str
) -> None:
    keys_cli("generate", "--algorithm", algorithm)

    jwks = client.get("/.well-known/jwks.json").json

    for jwk in jwks["keys"]:
        assert not PRIVATE_JWK_MEMBERS & set(jwk)
        assert set(jwk) <= {"kty", "kid", "alg", "use", "crv", "x", "y", "n", "e"}


def test_jwks_is_public_and_documented(client: FlaskClient) -> None:
    response = client.get("/.well-known/jwks.json")
    operation = client.get("/openapi.json").json["paths"]["/.well-known/jwks.json"]["get"]

    assert response.status_code == 200
    assert "security" not in operation
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Jwks"}


def rotate_elsewhere(app: Flask) -> None:
    """Rotate as `flask keys` in another process would: this process keeps its loaded ring."""
    ring = app.extensions[key_ring._RING]
    generate_key()
    rotate_keys()
    app.extensions[key_ring._RING] = ring


def test_a_key_rotated_in_elsewhere_verifies_here_after_the_state_check(
    app: Flask,
    client: FlaskClient,
    alice_tokens: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    me(client, alice_tokens["access_token"])
    rotate_elsewhere(app)
    monkeypatch.setattr(key_ring, "KEY_STATE_CHECK_SECONDS", 0)

    token = signed_by(key_in("current"), claims(alice_tokens["access_token"]))

    assert me(client, token).status_code == 200


@pytest.mark.parametrize(("check_seconds", "signs_with"), [(3600, "previous"), (0, "current")])
def test_this_process_signs_with_a_new_key_once_it_has_checked_the_key_states(
    app: Flask,
    alice: User,
    login: Callable[..., dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    check_seconds: int,
    signs_with: str,
) -> None:
    login("alice")
    rotate_elsewhere(app)
    monkeypatch.setattr(key_ring, "KEY_STATE_CHECK_SECONDS", check_seconds)

    token = login("alice")["access_token"]

    assert header(token)["kid"] == key_in(signs_with).kid


def test_a_key_retired_elsewhere_is_refused_and_unpublished_after_the_state_check(
    app: Flask,
    client: FlaskClient,
    alice_tokens: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old_token = alice_tokens["access_token"]
    generate_key()
    rotate_keys()
    forget_key_ring()
    old_kid = header(old_token)["kid"]
    assert me(client, old_token).status_code == 200
    ring = app.extensions[key_ring._RING]
    retire_key(old_kid, force=True)
    app.extensions[key_ring._RING] = ring  # as another process: its ring was not told
    monkeypatch.setattr(key_ring, "KEY_STATE_CHECK_SECONDS", 0)

    assert_invalid_token(me(client, old_token))
    assert old_kid not in published_kids(client)


def test_made_up_kids_never_make_the_ring_be_rebuilt(
    app: Flask,
    client: FlaskClient,
    alice_tokens: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    me(client, alice_tokens["access_token"])  # the ring is loaded
    loads = []
    real_load = key_ring._load_ring
    monkeypatch.setattr(key_ring, "_load_ring", lambda: loads.append(1) or real_load())
    monkeypatch.setattr(key_ring, "KEY_STATE_CHECK_SECONDS", 0)  # checked on every request
    forged = [forge_kid(alice_tokens["access_token"], f"unknown-{n}") for n in range(20)]

    for token in forged:
        assert_invalid_token(me(client, token))

    assert loads == []


def forge_kid(token: str, kid: str) -> str:
    """The same token with another kid in its header (the signature no longer matters)."""
    encoded_header, payload, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(encoded_header + "=="))
    new_header = base64.urlsafe_b64encode(json.dumps(decoded | {"kid": kid}).encode())
    return ".".join((new_header.rstrip(b"=").decode(), payload, signature))


def test_jwks_may_be_cached_by_verifiers_for_the_key_ring_refresh_interval(
    app: Flask, client: FlaskClient
) -> None:
    response = client.get("/.well-known/jwks.json")

    max_age = app.config["KEY_SET_REFRESH_SECONDS"]
    assert response.headers["Cache-Control"] == f"public, max-age={max_age}"
    assert "Pragma" not in response.headers


def test_the_key_states_are_read_again_exactly_when_the_check_interval_has_passed(
    app: Flask,
    client: FlaskClient,
    alice_tokens: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    app.extensions[key_ring._RING] = key_ring.KeyRingCache(clock=lambda: now[0])
    reads: list[float] = []
    read_states = key_ring._published_states
    monkeypatch.setattr(
        key_ring, "_published_states", lambda: reads.append(now[0]) or read_states()
    )
    token = alice_tokens["access_token"]

    me(client, token)
    now[0] = 1000.999
    me(client, token)
    now[0] = 1001.0  # a second later: a key retired meanwhile is refused from now on
    me(client, token)

    assert reads == [1000.0, 1001.0]


def test_a_current_key_no_configured_encryption_key_opens_is_a_503_not_a_500(
    app: Flask, client: FlaskClient, alice: User
) -> None:
    app.config["SIGNING_KEY_ENCRYPTION_KEYS"] = [Fernet.generate_key().decode()]
    forget_key_ring()

    response = client.post("/auth/login", json={"username": "alice", "password": PASSWORD})

    assert_problem(response, 503)
    assert response.json["type"].endswith("signing-unavailable")
