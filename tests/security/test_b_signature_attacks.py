"""Catalogue group B: signature and algorithm attacks, forged without the server's key.

The attacker's keys are made here with `cryptography`; nothing comes from the app.
B15 and B16 also sign with the real key, to show the header rule alone rejects them.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import shlex
import subprocess
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.loopback import recording_jwks_server
from tests.policy.helpers import b64url, b64url_json, hs256_raw, unb64url, unsigned, with_payload
from tests.security.expect import assert_invalid_token, claims_of
from tests.security.live import Client, Server

ME = "/auth/me"


def weak_secrets() -> list[str]:
    text = files("myapi.security").joinpath("weak_secrets.txt").read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


@pytest.fixture(scope="module")
def attacker_rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str = "attacker") -> dict[str, str]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return jwk | {"kid": kid, "use": "sig", "alg": "RS256"}


def test_B1_signature_removed(client: Client, alice_tokens: dict[str, Any]) -> None:
    header, payload, _ = alice_tokens["access_token"].split(".")

    assert_invalid_token(client.get(ME, headers={"Authorization": f"Bearer {header}.{payload}."}))


@pytest.mark.parametrize("variant", ["truncated", "bit-flipped"])
def test_B2_broken_signature(client: Client, alice_tokens: dict[str, Any], variant: str) -> None:
    header, payload, signature = alice_tokens["access_token"].split(".")
    if variant == "truncated":
        signature = signature[:-4]
    else:
        raw = bytearray(unb64url(signature))
        raw[5] ^= 0x01
        signature = b64url(bytes(raw))

    reply = client.get(ME, headers={"Authorization": f"Bearer {header}.{payload}.{signature}"})

    assert_invalid_token(reply)


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", ""])
def test_B3_alg_none_variants(client: Client, alice_tokens: dict[str, Any], alg: str) -> None:
    token = unsigned(claims_of(alice_tokens["access_token"]), alg)

    assert_invalid_token(client.get(ME, token=token))


def test_B4_alg_none_with_the_original_signature(
    client: Client, alice_tokens: dict[str, Any]
) -> None:
    signature = alice_tokens["access_token"].split(".")[2]
    token = unsigned(claims_of(alice_tokens["access_token"]), "none", signature)

    assert_invalid_token(client.get(ME, token=token))


def test_B5_hs256_with_the_empty_key(client: Client, alice_tokens: dict[str, Any]) -> None:
    token = hs256_raw({"alg": "HS256", "typ": "JWT"}, claims_of(alice_tokens["access_token"]), b"")

    assert_invalid_token(client.get(ME, token=token))


def test_B6_resigned_with_each_common_secret(client: Client, alice_tokens: dict[str, Any]) -> None:
    claims = claims_of(alice_tokens["access_token"])
    header = {"alg": "HS256", "typ": "JWT"}

    accepted = [
        secret
        for secret in weak_secrets()
        if client.get(ME, token=hs256_raw(header, claims, secret.encode())).status != 401
    ]

    assert accepted == []


@pytest.mark.parametrize(
    "change",
    [
        {"sub": "SUB+1"},
        {"role": "admin"},
        {"type": "refresh"},
        {"scope": "notes:read notes:write users:read users:write"},
        {"fresh": True, "iat": 0},
    ],
    ids=["sub", "role", "type", "scope", "fresh"],
)
def test_B7_tampered_claim_with_the_original_signature(
    client: Client, alice_tokens: dict[str, Any], change: dict[str, Any]
) -> None:
    token = alice_tokens["access_token"]
    claims = claims_of(token)
    if change.get("sub") == "SUB+1":  # another user than the token's own
        change = {"sub": str(int(claims["sub"]) + 1)}

    forged = with_payload(token, claims | change)

    assert_invalid_token(client.get(ME, token=forged))
    assert_invalid_token(client.get("/api/v1/admin/users", token=forged))


@pytest.mark.parametrize("key_form", ["pem", "pkcs1-pem", "jwk-json", "openssh", "der"])
def test_B8_hmac_keyed_with_a_public_key(
    client: Client, alice_tokens: dict[str, Any], attacker_rsa: rsa.RSAPrivateKey, key_form: str
) -> None:
    public = attacker_rsa.public_key()
    encodings = {
        "pem": lambda: public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "pkcs1-pem": lambda: public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
        ),
        "jwk-json": lambda: json.dumps(public_jwk(attacker_rsa)).encode(),
        "openssh": lambda: public.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        ),
        "der": lambda: public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    }
    claims = claims_of(alice_tokens["access_token"])

    token = hs256_raw({"alg": "HS256", "typ": "JWT"}, claims, encodings[key_form]())

    assert_invalid_token(client.get(ME, token=token))


def test_B9_embedded_jwk_signed_by_the_attacker(
    client: Client, alice_tokens: dict[str, Any], attacker_rsa: rsa.RSAPrivateKey
) -> None:
    claims = claims_of(alice_tokens["access_token"])
    header = {"jwk": public_jwk(attacker_rsa), "kid": "attacker"}

    token = jwt.encode(claims, attacker_rsa, algorithm="RS256", headers=header)

    assert_invalid_token(client.get(ME, token=token))


@pytest.fixture
def jwks_listener(attacker_rsa: rsa.RSAPrivateKey) -> Iterator[http.server.HTTPServer]:
    """A loopback server offering the attacker's JWKS, recording every request it gets."""
    with recording_jwks_server({"keys": [public_jwk(attacker_rsa)]}) as server:
        yield server


@pytest.mark.parametrize("parameter", ["jku", "x5u"])
def test_B10_jku_and_x5u_are_never_fetched(
    client: Client,
    alice_tokens: dict[str, Any],
    attacker_rsa: rsa.RSAPrivateKey,
    jwks_listener: http.server.HTTPServer,
    parameter: str,
) -> None:
    url = f"http://127.0.0.1:{jwks_listener.server_address[1]}/jwks.json"
    claims = claims_of(alice_tokens["access_token"])
    token = jwt.encode(
        claims, attacker_rsa, algorithm="RS256", headers={parameter: url, "kid": "attacker"}
    )

    reply = client.get(ME, token=token)

    assert_invalid_token(reply)
    # The verdict is given; a fetch made on the way would already have arrived.
    assert jwks_listener.hits == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("kid", ["../../../../../../dev/null", "/dev/null", ""])
def test_B11_kid_path_traversal_with_the_empty_key(
    client: Client, alice_tokens: dict[str, Any], kid: str
) -> None:
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}

    token = hs256_raw(header, claims_of(alice_tokens["access_token"]), b"")

    assert_invalid_token(client.get(ME, token=token))


def test_B12_kid_sql_injection(client: Client, live: Server, alice_tokens: dict[str, Any]) -> None:
    header = {"alg": "HS256", "typ": "JWT", "kid": "x' UNION SELECT '1';--"}
    token = hs256_raw(header, claims_of(alice_tokens["access_token"]), b"1")
    log_before = live.log_path.read_text(errors="replace")

    reply = client.get(ME, token=token)

    assert_invalid_token(reply)
    new_log = live.log_path.read_text(errors="replace")[len(log_before) :]
    for marker in ("SQL", "syntax error", "Traceback", "UNION"):
        assert marker not in new_log


#: Shell injections through `kid` whose command leaves a file behind: evidence that does not
#: depend on timing, unlike `sleep`. `{marker}` is an absolute path of the test's own.
COMMAND_INJECTIONS = [
    "|touch {marker}",
    "$(touch {marker})",
    "`touch {marker}`",
    "x; touch {marker}",
]
INJECTION_IDS = ["pipe", "substitution", "backticks", "semicolon"]


def command_injection(template: str, marker: Path) -> str:
    return template.format(marker=shlex.quote(str(marker)))


@pytest.mark.parametrize("template", COMMAND_INJECTIONS, ids=INJECTION_IDS)
def test_B13_the_injections_do_run_a_command_in_a_shell(tmp_path: Path, template: str) -> None:
    marker = tmp_path / "ran"

    # How a key file named by `kid` would be read by a service that shells out.
    subprocess.run(  # noqa: S602 - a shell is what the injection needs
        f"cat keys/{command_injection(template, marker)}",
        shell=True,
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )

    assert marker.exists()


@pytest.mark.parametrize("template", COMMAND_INJECTIONS, ids=INJECTION_IDS)
def test_B13_kid_command_injection_runs_no_command(
    client: Client, alice_tokens: dict[str, Any], tmp_path: Path, template: str
) -> None:
    marker = tmp_path / "ran"
    header = {"alg": "HS256", "typ": "JWT", "kid": command_injection(template, marker)}
    token = hs256_raw(header, claims_of(alice_tokens["access_token"]), b"")

    reply = client.get(ME, token=token)

    assert_invalid_token(reply)
    # The server runs on this machine as this user: a command it ran would have left the
    # marker before it answered.
    assert not marker.exists()


def test_B14_es256_psychic_signature(client: Client, alice_tokens: dict[str, Any]) -> None:
    claims = claims_of(alice_tokens["access_token"])
    signing_input = f"{b64url_json({'alg': 'ES256', 'typ': 'JWT'})}.{b64url_json(claims)}"

    token = f"{signing_input}.{b64url(bytes(64))}"

    assert_invalid_token(client.get(ME, token=token))


def test_B14_es256_signed_by_the_attacker(client: Client, alice_tokens: dict[str, Any]) -> None:
    key = ec.generate_private_key(ec.SECP256R1())

    token = jwt.encode(claims_of(alice_tokens["access_token"]), key, algorithm="ES256")

    assert_invalid_token(client.get(ME, token=token))


def test_B15_unknown_crit_extension_even_with_the_real_key(
    client: Client, live: Server, alice_tokens: dict[str, Any]
) -> None:
    header = {"alg": "HS256", "typ": "JWT", "crit": ["x-unknown"], "x-unknown": True}

    token = hs256_raw(header, claims_of(alice_tokens["access_token"]), live.secret.encode())

    assert_invalid_token(client.get(ME, token=token))


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_B16_other_hmac_algorithm_even_with_the_real_key(
    client: Client, live: Server, alice_tokens: dict[str, Any], alg: str
) -> None:
    digest = {"HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    claims = claims_of(alice_tokens["access_token"])
    signing_input = f"{b64url_json({'alg': alg, 'typ': 'JWT'})}.{b64url_json(claims)}"
    mac = hmac.new(live.secret.encode(), signing_input.encode(), digest).digest()

    token = f"{signing_input}.{b64url(mac)}"

    assert_invalid_token(client.get(ME, token=token))


def test_B16_rs256_signed_by_the_attacker(
    client: Client, alice_tokens: dict[str, Any], attacker_rsa: rsa.RSAPrivateKey
) -> None:
    token = jwt.encode(claims_of(alice_tokens["access_token"]), attacker_rsa, algorithm="RS256")

    assert_invalid_token(client.get(ME, token=token))
