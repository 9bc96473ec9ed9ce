"""The per-process key ring: the published public keys and the current private key.

A key moves one way through its states: `next` (published in the JWKS, signs nothing yet,
so other services' caches learn it before it is used), `current` (signs every new token),
`previous` (still published and still verifies, until `publish_until`, when every token it
signed has expired), `retired` (gone from the JWKS, refused, its private part erased).
`services.signing_keys` moves keys between states; this module only reads them.

Each process keeps its ring in `app.extensions` and checks, at most once a second, whether
the key table's states still match it: one small query (kid, state and `publish_until` of the
published keys, a handful of rows). Only when they differ is the ring rebuilt (public keys
parsed, the current private key decrypted). So a key retired with `flask keys retire --force`
is refused, and gone from the JWKS, on every worker of every host within a second; a made-up
kid in a flood of tokens costs nothing more, since no token can make the check run sooner.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from flask import current_app
from sqlalchemy import select
from werkzeug.exceptions import ServiceUnavailable

from myapi.clock import utcnow
from myapi.extensions import db
from myapi.logs import report_outage
from myapi.models import SigningKey
from myapi.security.key_material import KeyEncryptionError, decrypt_private_key

log = logging.getLogger(__name__)

NEXT, CURRENT, PREVIOUS, RETIRED = "next", "current", "previous", "retired"
#: In the JWKS's order: the key to use first, then the one coming, then the one going.
PUBLISHED_STATES = (CURRENT, NEXT, PREVIOUS)
#: How stale a process's view of the key states may be: a retired key is refused by then.
KEY_STATE_CHECK_SECONDS = 1.0
_RING = "signing_key_ring"


class SigningUnavailable(ServiceUnavailable):
    """Keys mode without a usable current key: no token can be issued (a 503 problem)."""

    description = "Token signing is unavailable; retry shortly."
    problem_slug = "signing-unavailable"

    def __init__(self) -> None:
        super().__init__(retry_after=5)


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


KeyStates = tuple[tuple[str, str, datetime | None], ...]


class KeyRingCache:
    """One process's key ring, checked against the key table's states at most once a second
    and rebuilt whole when they changed; a lock keeps the checks single-file."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._ring: KeyRing | None = None
        self._states: KeyStates = ()
        self._checked_at = 0.0

    def _stale(self) -> bool:
        return self._ring is None or self._clock() - self._checked_at >= KEY_STATE_CHECK_SECONDS

    def ring(self) -> KeyRing:
        if self._stale():
            with self._lock:
                if self._stale():  # unless another thread checked while this one waited
                    states = _published_states()
                    if self._ring is None or states != self._states:
                        self._ring, self._states = _load_ring(), states
                    self._checked_at = self._clock()
        assert self._ring is not None
        return self._ring


def _published_states() -> KeyStates:
    """What decides the ring: each published key's kid, state and end of publication."""
    rows = db.session.execute(
        select(SigningKey.kid, SigningKey.state, SigningKey.publish_until)
        .where(SigningKey.state.in_(PUBLISHED_STATES))
        .order_by(SigningKey.kid)
    )
    return tuple((kid, state, until) for kid, state, until in rows)


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
        return Signer(row.kid, row.algorithm, decrypt_private_key(row.encrypted_private_key))
    except KeyEncryptionError as error:
        log.error("the current signing key cannot be decrypted: %s", error)
        return None


def _ring_cache() -> KeyRingCache:
    return current_app.extensions.setdefault(_RING, KeyRingCache())


def forget_key_ring() -> None:
    """Drop this process's ring so the next use re-reads the table (after a lifecycle step)."""
    current_app.extensions.pop(_RING, None)


def _ring() -> KeyRing:
    return _ring_cache().ring()


def signing_key() -> Signer:
    """The current key; a 503 problem when there is none (run `flask keys generate`)."""
    signer = _ring().signer
    if signer is None:
        unavailable = SigningUnavailable()
        report_outage("signing", unavailable)  # logged at most once a minute per process
        raise unavailable
    return signer


def verification_key(kid: str) -> PublishedKey | None:
    """The published key named `kid`, from the ring only; None when unknown or withdrawn."""
    key = _ring().keys.get(kid)
    if key is None or not key.is_published(utcnow()):
        return None
    return key


def check_signing() -> None:
    """Sign a probe with the current key and verify it with the published key, as a token
    would be; raises when either fails (for `/readyz`: a host that cannot issue a token is
    not ready, whatever its database says)."""
    signer = signing_key()
    probe = jwt.encode({"probe": True}, signer.private_key, signer.algorithm, {"kid": signer.kid})
    published = verification_key(signer.kid)
    if published is None:
        raise SigningUnavailable()
    jwt.decode(probe, published.verifier, algorithms=[published.algorithm])


def public_jwks() -> dict[str, list[dict[str, str]]]:
    """The JWKS: current, next, and previous keys until `publish_until`; public members only."""
    if current_app.config["TOKEN_SIGNING"] != "keys":
        return {"keys": []}
    now = utcnow()
    keys = _ring().keys.values()
    return {
        "keys": [
            key.jwk
            for state in PUBLISHED_STATES
            for key in keys
            if key.state == state and key.is_published(now)
        ]
    }
