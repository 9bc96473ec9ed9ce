"""Keys mode picks the key by kid from its own ring only, with the algorithm pinned per key.

Each forged token carries the claims of a genuine one, so only the signature and
header decide; every one must get the plain 401 invalid_token answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask.testing import FlaskClient

from myapi.security import key_ring
from tests.auth.observe import assert_invalid_token, claims, me
from tests.keys.observe import key_in, private_key_of, signed_by
from tests.loopback import recording_jwks_server


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_raw(header: dict[str, Any], payload: dict[str, Any], secret: bytes) -> str:
    """HS256 by hand: PyJWT refuses to use a PEM or JWK as an HMAC secret, an attacker does not."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


@pytest.fixture
def genuine(alice_tokens: dict[str, Any]) -> dict[str, Any]:
    """The claims of a real access token of alice's."""
    return claims(alice_tokens["access_token"])


@pytest.fixture
def attacker_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def attacker_jwk(key: ec.EllipticCurvePrivateKey, kid: str = "attacker") -> dict[str, str]:
    jwk = jwt.get_algorithm_by_name("ES256").to_jwk(key.public_key(), as_dict=True)
    return jwk | {"kid": kid, "alg": "ES256", "use": "sig"}


def current_public_key_forms() -> dict[str, bytes]:
    """The current public key as an attacker finds it: PEM, and the JWK from the JWKS."""
    key = key_in("current")
    pem = (
        private_key_of(key)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return {"pem": pem, "jwk": key.public_jwk.encode()}


@pytest.mark.parametrize("form", ["pem", "jwk"])
@pytest.mark.parametrize("with_kid", [True, False])
def test_hs256_keyed_with_the_current_public_key_is_refused(
    client: FlaskClient, genuine: dict[str, Any], form: str, with_kid: bool
) -> None:
    header = {"alg": "HS256", "typ": "JWT"} | ({"kid": key_in("current").kid} if with_kid else {})

    token = hs256_raw(header, genuine, current_public_key_forms()[form])

    assert_invalid_token(me(client, token))


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_naming_the_current_key_is_refused(
    client: FlaskClient, genuine: dict[str, Any], alg: str
) -> None:
    header = {"alg": alg, "typ": "JWT", "kid": key_in("current").kid}

    token = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(genuine).encode())}."

    assert_invalid_token(me(client, token))


def test_a_token_signed_by_another_key_under_a_known_kid_is_refused(
    client: FlaskClient, genuine: dict[str, Any], attacker_key: ec.EllipticCurvePrivateKey
) -> None:
    token = jwt.encode(
        genuine, attacker_key, algorithm="ES256", headers={"kid": key_in("current").kid}
    )

    assert_invalid_token(me(client, token))


def test_a_token_naming_an_unknown_kid_is_refused(
    client: FlaskClient, genuine: dict[str, Any], attacker_key: ec.EllipticCurvePrivateKey
) -> None:
    token = jwt.encode(genuine, attacker_key, algorithm="ES256", headers={"kid": "attacker"})

    assert_invalid_token(me(client, token))


@pytest.fixture
def key_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every kid looked up in the key ring (`key_ring.verification_key`) while the test runs."""
    looked_up: list[str] = []
    original = key_ring.verification_key

    def record(kid: str) -> Any:
        looked_up.append(kid)
        return original(kid)

    monkeypatch.setattr(key_ring, "verification_key", record)
    return looked_up


def test_a_well_formed_kid_is_looked_up_in_the_ring(
    client: FlaskClient,
    genuine: dict[str, Any],
    attacker_key: ec.EllipticCurvePrivateKey,
    key_lookups: list[str],
) -> None:
    token = jwt.encode(genuine, attacker_key, algorithm="ES256", headers={"kid": "attacker"})

    response = me(client, token)

    assert_invalid_token(response)
    assert set(key_lookups) == {"attacker"}


@pytest.mark.parametrize(
    "kid",
    [
        "../../../../dev/null",
        "/dev/null",
        "",
        "x' UNION SELECT '1';--",
        "|sleep 10",
        "$(sleep 10)",
        "a" * 65,
    ],
)
@pytest.mark.parametrize("secret", [b"", b"1"])
def test_kids_with_path_sql_or_shell_characters_are_refused_before_any_key_lookup(
    client: FlaskClient, genuine: dict[str, Any], key_lookups: list[str], kid: str, secret: bytes
) -> None:
    token = hs256_raw({"alg": "HS256", "typ": "JWT", "kid": kid}, genuine, secret)

    response = me(client, token)

    assert_invalid_token(response)
    # Refused by its shape: never used as a path, a query or a command, not even as a lookup.
    assert key_lookups == []


def test_a_kid_that_is_not_a_string_is_refused(
    client: FlaskClient, genuine: dict[str, Any]
) -> None:
    token = hs256_raw({"alg": "ES256", "typ": "JWT", "kid": ["x"]}, genuine, b"")

    assert_invalid_token(me(client, token))


@pytest.fixture
def jwks_listener(attacker_key: ec.EllipticCurvePrivateKey) -> Iterator[http.server.HTTPServer]:
    """A loopback server offering the attacker's JWKS, recording every request it gets."""
    with recording_jwks_server({"keys": [attacker_jwk(attacker_key)]}) as server:
        yield server


@pytest.mark.parametrize("parameter", ["jku", "x5u"])
@pytest.mark.parametrize("kid", ["attacker", "current"])
def test_jku_and_x5u_are_never_fetched(
    client: FlaskClient,
    genuine: dict[str, Any],
    attacker_key: ec.EllipticCurvePrivateKey,
    jwks_listener: http.server.HTTPServer,
    parameter: str,
    kid: str,
) -> None:
    url = f"http://127.0.0.1:{jwks_listener.server_address[1]}/jwks.json"
    named = key_in("current").kid if kid == "current" else kid
    token = jwt.encode(
        genuine, attacker_key, algorithm="ES256", headers={parameter: url, "kid": named}
    )

    response = me(client, token)

    assert_invalid_token(response)
    assert jwks_listener.hits == []  # type: ignore[attr-defined]


def test_an_embedded_jwk_with_the_attackers_key_is_refused(
    client: FlaskClient, genuine: dict[str, Any], attacker_key: ec.EllipticCurvePrivateKey
) -> None:
    header = {"jwk": attacker_jwk(attacker_key), "kid": "attacker"}

    token = jwt.encode(genuine, attacker_key, algorithm="ES256", headers=header)

    assert_invalid_token(me(client, token))


@pytest.mark.parametrize("member", ["jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256"])
def test_key_material_in_the_header_is_refused_even_with_a_genuine_signature(
    client: FlaskClient, genuine: dict[str, Any], member: str
) -> None:
    current = key_in("current")
    assert me(client, signed_by(current, genuine)).status_code == 200

    token = signed_by(current, genuine, **{member: "https://attacker.example/keys"})

    assert_invalid_token(me(client, token))
