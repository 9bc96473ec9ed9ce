"""Asymmetric signing keys as material: making them, naming them, keeping them encrypted.

A key's `kid` is its RFC 7638 thumbprint. Private keys are stored as PKCS#8 encrypted with
the first of SIGNING_KEY_ENCRYPTION_KEYS (Fernet); the others still decrypt, so the
encryption key itself can be rotated. Nothing here touches the database.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import jwt
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from flask import current_app

ALGORITHMS = ("ES256", "RS256", "EdDSA")
RSA_BITS = 3072
#: Only the members RFC 7638 hashes, per key type; the thumbprint is the kid.
_THUMBPRINT_MEMBERS = {
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
    "OKP": ("crv", "kty", "x"),
}


class KeyEncryptionError(ValueError):
    """SIGNING_KEY_ENCRYPTION_KEYS is missing or invalid, or does not open a stored key."""


class UnsupportedAlgorithm(ValueError):
    """An algorithm other than ES256, RS256 and EdDSA."""


def new_private_key(algorithm: str) -> Any:
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise UnsupportedAlgorithm(f"unsupported algorithm {algorithm!r}: use {', '.join(ALGORITHMS)}")


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638: SHA-256 of the required members in lexical order, base64url without padding."""
    members = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def public_jwk(private_key: Any, algorithm: str) -> dict[str, str]:
    """The public half only (built from the public key object, so no private member can leak)."""
    jwk = jwt.get_algorithm_by_name(algorithm).to_jwk(private_key.public_key(), as_dict=True)
    return jwk | {"kid": thumbprint(jwk), "alg": algorithm, "use": "sig"}


def fernet_key_problems(values: list[str]) -> list[str]:
    """Why SIGNING_KEY_ENCRYPTION_KEYS cannot encrypt keys (never echoing a value); [] if it can."""
    if not values:
        return [
            "SIGNING_KEY_ENCRYPTION_KEYS is not set: TOKEN_SIGNING=keys needs a Fernet key "
            "to encrypt private keys with (docs/keys.md)"
        ]
    problems = []
    for position, value in enumerate(values, start=1):
        try:
            Fernet(value)
        except ValueError:
            problems.append(
                f"SIGNING_KEY_ENCRYPTION_KEYS entry {position} is not a Fernet key "
                "(32 url-safe base64-encoded bytes)"
            )
    return problems


def key_encryption() -> MultiFernet:
    """Fernet over SIGNING_KEY_ENCRYPTION_KEYS: the first encrypts, any of them decrypts."""
    configured = current_app.config["SIGNING_KEY_ENCRYPTION_KEYS"]
    problems = fernet_key_problems(configured)
    if problems:
        raise KeyEncryptionError("; ".join(problems))
    return MultiFernet([Fernet(value) for value in configured])


def encrypt_private_key(private_key: Any) -> str:
    pkcs8 = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_encryption().encrypt(pkcs8).decode()


def decrypt_private_key(encrypted: str) -> Any:
    try:
        pkcs8 = key_encryption().decrypt(encrypted.encode())
    except InvalidToken:
        raise KeyEncryptionError(
            "no key in SIGNING_KEY_ENCRYPTION_KEYS decrypts the stored private key"
        ) from None
    return serialization.load_pem_private_key(pkcs8, password=None)


def reencrypted(encrypted: str) -> str:
    """The same private key, encrypted with the first encryption key.

    Raises InvalidToken when no configured encryption key opens it.
    """
    return key_encryption().rotate(encrypted.encode()).decode()
