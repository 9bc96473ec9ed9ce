"""Asymmetric token-signing keys: generation, encryption at rest, lifecycle, and the key ring.

A key moves one way through its states: `next` (published in the JWKS, signs
nothing yet, so other services' caches learn it before it is used), `current`
(signs every new token), `previous` (still published and still verifies, until
`publish_until`, when every token it signed has expired), `retired` (gone from
the JWKS, refused, its private part erased).

Private keys are stored as PKCS#8 encrypted with the first of
SIGNING_KEY_ENCRYPTION_KEYS (Fernet; the others still decrypt, so the encryption
key itself can be rotated). A key's `kid` is its RFC 7638 thumbprint.

Each process keeps a key ring (in `app.extensions`): the published public keys and
the current private key, re-read every KEY_SET_REFRESH_SECONDS, and at once when a
token names a kid the ring does not know (at most once a second, so a flood of
made-up kids cannot turn into a flood of queries).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from flask import current_app
from sqlalchemy import select
from werkzeug.exceptions import ServiceUnavailable

from myapi.clock import utcnow
from myapi.extensions import db
from myapi.logs import audit
from myapi.models import SigningKey

log = logging.getLogger(__name__)

ALGORITHMS = ("ES256", "RS256", "EdDSA")
RSA_BITS = 3072
NEXT, CURRENT, PREVIOUS, RETIRED = "next", "current", "previous", "retired"
PUBLISHED_STATES = (NEXT, CURRENT, PREVIOUS)
#: How soon a token naming an unknown kid may trigger another read of the key table.
UNKNOWN_KID_RELOAD_SECONDS = 1.0
#: Only the members RFC 7638 hashes, per key type; the thumbprint is the kid.
_THUMBPRINT_MEMBERS = {
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
    "OKP": ("crv", "kty", "x"),
}
_RING = "signing_key_ring"


class KeyEncryptionError(ValueError):
    """SIGNING_KEY_ENCRYPTION_KEYS is missing or invalid, or does not open a stored key."""


class KeyLifecycleError(ValueError):
    """A lifecycle step that would break the rules (e.g. retiring the current key)."""


class SigningUnavailable(ServiceUnavailable):
    """Keys mode without a usable current key: no token can be issued (a 503 problem)."""

    description = "Token signing is unavailable; retry shortly."


# --- key material -------------------------------------------------------------------------


def _new_private_key(algorithm: str) -> Any:
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise KeyLifecycleError(f"unsupported algorithm {algorithm!r}: use {', '.join(ALGORITHMS)}")


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638: SHA-256 of the required members in lexical order, base64url without padding."""
    members = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def _public_jwk(private_key: Any, algorithm: str) -> dict[str, str]:
    """The public half only (built from the public key object, so no private member can leak)."""
    jwk = jwt.get_algorithm_by_name(algorithm).to_jwk(private_key.public_key(), as_dict=True)
    return jwk | {"kid": thumbprint(jwk), "alg": algorithm, "use": "sig"}


def key_encryption() -> MultiFernet:
    """Fernet over SIGNING_KEY_ENCRYPTION_KEYS: the first encrypts, any of them decrypts."""
    configured = current_app.config["SIGNING_KEY_ENCRYPTION_KEYS"]
    if not configured:
        raise KeyEncryptionError(
            "SIGNING_KEY_ENCRYPTION_KEYS is not set: it needs a Fernet key "
            "(cryptography.fernet.Fernet.generate_key(); see docs/keys.md)"
        )
    fernets = []
    for position, value in enumerate(configured, start=1):
        try:
            fernets.append(Fernet(value))
        except ValueError:
            raise KeyEncryptionError(
                f"SIGNING_KEY_ENCRYPTION_KEYS entry {position} is not a Fernet key "
                "(32 url-safe base64-encoded bytes)"
            ) from None
    return MultiFernet(fernets)


def _encrypt_private_key(private_key: Any) -> str:
    pkcs8 = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_encryption().encrypt(pkcs8).decode()


def _decrypt_private_key(encrypted: str) -> Any:
    try:
        pkcs8 = key_encryption().decrypt(encrypted.encode())
    except InvalidToken:
        raise KeyEncryptionError(
            "no key in SIGNING_KEY_ENCRYPTION_KEYS decrypts the stored private key"
        ) from None
    return serialization.load_pem_private_key(pkcs8, password=None)


# --- lifecycle (used by `flask keys`) -------------------------------------------------------


def list_keys() -> list[SigningKey]:
    return list(db.session.scalars(select(SigningKey).order_by(SigningKey.created_at)))


def _key_in_state(state: str) -> SigningKey | None:
    return db.session.scalars(
        select(SigningKey).where(SigningKey.state == state).with_for_update()
    ).first()


def generate_key(algorithm: str | None = None) -> SigningKey:
    """A new key, pre-published as `next`; it is `current` at once when there is none."""
    algorithm = algorithm or current_app.config["SIGNING_KEY_ALGORITHM"]
    if _key_in_state(NEXT) is not None:
        raise KeyLifecycleError("a next key already exists: rotate to it, or retire it first")
    private_key = _new_private_key(algorithm)
    jwk = _public_jwk(private_key, algorithm)
    now = utcnow()
    becomes_current = _key_in_state(CURRENT) is None
    key = SigningKey(
        kid=jwk["kid"],
        algorithm=algorithm,
        state=CURRENT if becomes_current else NEXT,
        public_jwk=json.dumps(jwk),
        encrypted_private_key=_encrypt_private_key(private_key),
        created_at=now,
        activated_at=now if becomes_current else None,
    )
    db.session.add(key)
    _commit("signing_key_generated", kid=key.kid, algorithm=algorithm, state=key.state)
    return key


@dataclass(frozen=True)
class Rotation:
    current: SigningKey
    previous: SigningKey | None
    generated: bool  # no next key was waiting: the new current key was never pre-published


def longest_token_lifetime() -> timedelta:
    """How long a token signed now may stay valid, plus the leeway verifiers allow.

    Processes still holding the old ring keep signing with the old key for up to
    KEY_SET_REFRESH_SECONDS after a rotation, so that is added too.
    """
    config = current_app.config
    lifetime = max(
        timedelta(days=config["REFRESH_TOKEN_DAYS"]),
        timedelta(minutes=config["ACCESS_TOKEN_MINUTES"]),
        timedelta(minutes=config["CLIENT_TOKEN_MINUTES"]),
    )
    return lifetime + timedelta(
        seconds=config["JWT_LEEWAY_SECONDS"] + config["KEY_SET_REFRESH_SECONDS"]
    )


def rotate_keys() -> Rotation:
    """`next` becomes `current`; the old current stays published until its tokens expire."""
    promoted = _key_in_state(NEXT)
    generated = promoted is None
    if generated:
        promoted = generate_key()
        if promoted.state == CURRENT:  # there was no key at all
            return Rotation(current=promoted, previous=None, generated=True)
    old = _key_in_state(CURRENT)
    now = utcnow()
    if old is not None:
        old.state = PREVIOUS
        old.deactivated_at = now
        old.publish_until = now + longest_token_lifetime()
    promoted.state = CURRENT
    promoted.activated_at = now
    _commit("signing_key_rotated", kid=promoted.kid, previous=old.kid if old else None)
    return Rotation(current=promoted, previous=old, generated=generated)


def retire_key(kid: str, *, force: bool = False) -> SigningKey:
    """Withdraw a key: a `next` one is cancelled; a `previous` one once its tokens are dead.

    Before `publish_until`, `force` is needed: every live token the key signed stops
    verifying (here at once, elsewhere when JWKS caches expire). The private part is
    erased: a retired key never signs again.
    """
    key = db.session.get(SigningKey, kid, with_for_update=True)
    if key is None:
        raise KeyLifecycleError(f"no signing key {kid!r}")
    if key.state == CURRENT:
        raise KeyLifecycleError("the current key cannot be retired: rotate first")
    if key.state == RETIRED:
        raise KeyLifecycleError(f"key {kid} is already retired")
    now = utcnow()
    if key.state == PREVIOUS and key.publish_until and key.publish_until > now and not force:
        raise KeyLifecycleError(
            f"key {kid} still verifies live tokens until "
            f"{key.publish_until.isoformat(timespec='seconds')}; --force ends them now"
        )
    key.state = RETIRED
    key.deactivated_at = key.deactivated_at or now
    key.publish_until = min(key.publish_until or now, now)
    key.encrypted_private_key = ""
    _commit("signing_key_retired", kid=kid, forced=force)
    return key


def reencrypt_keys() -> int:
    """Re-encrypt every stored private key with the first encryption key; returns how many."""
    encryption = key_encryption()
    keys = [key for key in list_keys() if key.encrypted_private_key]
    for key in keys:
        try:
            encrypted = encryption.rotate(key.encrypted_private_key.encode())
        except InvalidToken:
            db.session.rollback()
            raise KeyEncryptionError(
                f"no key in SIGNING_KEY_ENCRYPTION_KEYS decrypts key {key.kid}; nothing changed"
            ) from None
        key.encrypted_private_key = encrypted.decode()
    _commit("signing_keys_reencrypted", count=len(keys))
    return len(keys)


def _commit(event: str, **fields: Any) -> None:
    db.session.commit()
    audit(event, **fields)
    forget_key_ring()


# --- the per-process key ring -----------------------------------------------------------------


@dataclass(frozen=True)
class PublishedKey:
    kid: str
    algorithm: str
    state: str
    jwk: dict[str, str]
    verifier: Any  # the public key object PyJWT verifies with
    publish_until: datetime | None

    def is_published(self, now: datetime) -> bool:
        if self.state != PREVIOUS:
            return True
        return self.publish_until is not None and now < self.publish_until


@dataclass(frozen=True)
class Signer:
    kid: str
    algorithm: str
    private_key: Any


@dataclass(frozen=True)
class KeyRing:
    keys: dict[str, PublishedKey]
    signer: Signer | None


class KeyRingCache:
    """One process's key ring, replaced whole when stale; a lock keeps reloads single-file."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ring: KeyRing | None = None
        self._loaded_at = 0.0

    def ring(self, max_age: float) -> KeyRing:
        if self._ring is None or time.monotonic() - self._loaded_at >= max_age:
            with self._lock:
                if self._ring is None or time.monotonic() - self._loaded_at >= max_age:
                    self._ring = _load_ring()
                    self._loaded_at = time.monotonic()
        return self._ring


def _load_ring() -> KeyRing:
    rows = db.session.scalars(select(SigningKey).where(SigningKey.state.in_(PUBLISHED_STATES)))
    keys, signer = {}, None
    for row in rows:
        jwk = json.loads(row.public_jwk)
        verifier = jwt.get_algorithm_by_name(row.algorithm).from_jwk(jwk)
        keys[row.kid] = PublishedKey(
            row.kid, row.algorithm, row.state, jwk, verifier, row.publish_until
        )
        if row.state == CURRENT:
            signer = _signer(row)
    return KeyRing(keys=keys, signer=signer)


def _signer(row: SigningKey) -> Signer | None:
    """The current key, decrypted; without it the ring still verifies, but nothing is signed."""
    try:
        return Signer(row.kid, row.algorithm, _decrypt_private_key(row.encrypted_private_key))
    except KeyEncryptionError as error:
        log.error("the current signing key cannot be decrypted: %s", error)
        return None


def _ring_cache() -> KeyRingCache:
    return current_app.extensions.setdefault(_RING, KeyRingCache())


def forget_key_ring() -> None:
    """Drop this process's ring so the next use re-reads the table (after a lifecycle step)."""
    current_app.extensions.pop(_RING, None)


def _ring() -> KeyRing:
    return _ring_cache().ring(current_app.config["KEY_SET_REFRESH_SECONDS"])


def signing_key() -> Signer:
    """The current key; a 503 problem when there is none (run `flask keys generate`)."""
    signer = _ring().signer
    if signer is None:
        log.error("TOKEN_SIGNING=keys but no current signing key is usable")
        raise SigningUnavailable(retry_after=5)
    return signer


def verification_key(kid: str) -> PublishedKey | None:
    """The published key named `kid`, from the ring only; None when unknown or withdrawn."""
    key = _ring().keys.get(kid)
    if key is None:
        key = _ring_cache().ring(UNKNOWN_KID_RELOAD_SECONDS).keys.get(kid)
    if key is None or not key.is_published(utcnow()):
        return None
    return key


def public_jwks() -> dict[str, list[dict[str, str]]]:
    """The JWKS: current, next, and previous keys until `publish_until`; public members only."""
    if current_app.config["TOKEN_SIGNING"] != "keys":
        return {"keys": []}
    now = utcnow()
    order = {CURRENT: 0, NEXT: 1, PREVIOUS: 2}
    published = sorted(
        (key for key in _ring().keys.values() if key.is_published(now)),
        key=lambda key: order[key.state],
    )
    return {"keys": [key.jwk for key in published]}
