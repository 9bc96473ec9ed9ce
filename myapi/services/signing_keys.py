"""The lifecycle of asymmetric signing keys, for `flask keys`: generate, rotate, retire, re-encrypt.

Each step is one unit of work that also drops this process's key ring, so the next use
re-reads the table (other processes see the change within KEY_STATE_CHECK_SECONDS, a
second). The states and the ring are in `security.key_ring`, the key material in
`security.key_material`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import select

from myapi.clock import utcnow
from myapi.extensions import db
from myapi.models import SigningKey
from myapi.security.key_material import (
    KeyEncryptionError,
    UnsupportedAlgorithm,
    encrypt_private_key,
    new_private_key,
    public_jwk,
    reencrypted,
)
from myapi.security.key_ring import (
    CURRENT,
    KEY_STATE_CHECK_SECONDS,
    NEXT,
    PREVIOUS,
    RETIRED,
    forget_key_ring,
)
from myapi.services.transactions import UnitOfWork, unit_of_work


class KeyLifecycleError(ValueError):
    """A lifecycle step that would break the rules (e.g. retiring the current key)."""


@dataclass(frozen=True)
class Rotation:
    current: SigningKey
    previous: SigningKey | None
    generated: bool  # no next key was waiting: the new current key was never pre-published


def list_keys() -> list[SigningKey]:
    return list(db.session.scalars(select(SigningKey).order_by(SigningKey.created_at)))


def _key_in_state(state: str) -> SigningKey | None:
    return db.session.scalars(
        select(SigningKey).where(SigningKey.state == state).with_for_update()
    ).first()


def generate_key(algorithm: str | None = None) -> SigningKey:
    """A new key, pre-published as `next`; it is `current` at once when there is none."""
    with unit_of_work() as work:
        key = _generate(work, algorithm or current_app.config["SIGNING_KEY_ALGORITHM"])
    return key


def _generate(work: UnitOfWork, algorithm: str) -> SigningKey:
    if _key_in_state(NEXT) is not None:
        raise KeyLifecycleError("a next key already exists: rotate to it, or retire it first")
    try:
        private_key = new_private_key(algorithm)
    except UnsupportedAlgorithm as error:
        raise KeyLifecycleError(str(error)) from None
    jwk = public_jwk(private_key, algorithm)
    now = utcnow()
    becomes_current = _key_in_state(CURRENT) is None
    key = SigningKey(
        kid=jwk["kid"],
        algorithm=algorithm,
        state=CURRENT if becomes_current else NEXT,
        public_jwk=json.dumps(jwk),
        encrypted_private_key=encrypt_private_key(private_key),
        created_at=now,
        activated_at=now if becomes_current else None,
    )
    db.session.add(key)
    work.audit("signing_key_generated", kid=key.kid, algorithm=algorithm, state=key.state)
    work.after_commit(forget_key_ring)
    return key


def longest_token_lifetime() -> timedelta:
    """How long a token signed now may stay valid, plus the leeway verifiers allow.

    Processes that have not checked the key states since a rotation keep signing with the
    old key for up to KEY_STATE_CHECK_SECONDS, so that is added too.
    """
    config = current_app.config
    lifetime = max(
        timedelta(days=config["REFRESH_TOKEN_DAYS"]),
        timedelta(minutes=config["ACCESS_TOKEN_MINUTES"]),
        timedelta(minutes=config["CLIENT_TOKEN_MINUTES"]),
    )
    return lifetime + timedelta(seconds=config["JWT_LEEWAY_SECONDS"] + KEY_STATE_CHECK_SECONDS)


def rotate_keys() -> Rotation:
    """`next` becomes `current`; the old current stays published until its tokens expire."""
    with unit_of_work() as work:
        promoted = _key_in_state(NEXT)
        generated = promoted is None
        if promoted is None:
            promoted = _generate(work, current_app.config["SIGNING_KEY_ALGORITHM"])
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
        work.audit("signing_key_rotated", kid=promoted.kid, previous=old.kid if old else None)
        work.after_commit(forget_key_ring)
    return Rotation(current=promoted, previous=old, generated=generated)


def retire_key(kid: str, *, force: bool = False) -> SigningKey:
    """Withdraw a key: a `next` one is cancelled; a `previous` one once its tokens are dead.

    Before `publish_until`, `force` is needed: every live token the key signed stops
    verifying (here at once, elsewhere when JWKS caches expire). The private part is
    erased: a retired key never signs again.
    """
    with unit_of_work() as work:
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
        work.audit("signing_key_retired", kid=kid, forced=force)
        work.after_commit(forget_key_ring)
    return key


def reencrypt_keys() -> int:
    """Re-encrypt every stored private key with the first encryption key; returns how many.

    All or nothing: a key no configured encryption key opens leaves every key as it was.
    """
    with unit_of_work() as work:
        keys = [key for key in list_keys() if key.encrypted_private_key]
        for key in keys:
            try:
                key.encrypted_private_key = reencrypted(key.encrypted_private_key)
            except InvalidToken:
                raise KeyEncryptionError(
                    f"no key in SIGNING_KEY_ENCRYPTION_KEYS decrypts key {key.kid}; nothing changed"
                ) from None
        work.audit("signing_keys_reencrypted", count=len(keys))
        work.after_commit(forget_key_ring)
    return len(keys)
