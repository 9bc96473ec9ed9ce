"""What each signing choice costs per token, in process: sign once, verify once.

An access token of the usual shape is signed with `tokens.sign_token` and verified with
`tokens.decode_verified` (the exact calls a login and an authenticated request make),
for the shared secret (HS256) and for one key of each asymmetric algorithm, with no
HTTP, database or Redis in the loop. The figures separate the cryptography from the
rest of a request, whose cost the wrk table measures.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from cryptography.fernet import Fernet
from flask import Flask

from myapi import create_app
from myapi.clock import epoch_seconds, utcnow
from myapi.config import Testing
from myapi.extensions import db
from myapi.security.tokens import decode_verified, sign_token
from myapi.services.signing_keys import generate_key

ALGORITHMS = ("ES256", "RS256", "EdDSA")
ROUNDS = 7
CALLS_PER_ROUND = 500


def _claims() -> dict[str, object]:
    now = epoch_seconds(utcnow())
    return {
        "sub": "1",
        "type": "access",
        "fresh": False,
        "jti": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        "sid": "0" * 32,
        "scope": "notes:read notes:write",
    }


def _microseconds(call: Callable[[], object]) -> float:
    """The best of ROUNDS mean times of CALLS_PER_ROUND calls, in µs.

    The best round, not the median: on a shared host other work only ever adds time.
    """
    means = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(CALLS_PER_ROUND):
            call()
        means.append((time.perf_counter() - started) / CALLS_PER_ROUND * 1e6)
    return min(means)


def _measure(app: Flask) -> tuple[float, float, int]:
    with app.test_request_context():
        token = sign_token(_claims())
        sign = _microseconds(lambda: sign_token(_claims()))
        verify = _microseconds(lambda: decode_verified(token))
    return sign, verify, len(token)


def _keys_app(algorithm: str) -> Flask:
    settings = {"TOKEN_SIGNING": "keys"}
    app = create_app(
        Testing(**settings, SIGNING_KEY_ENCRYPTION_KEYS=[Fernet.generate_key().decode()])
    )
    with app.app_context():
        db.create_all()
        generate_key(algorithm)
    return app


def signing_costs() -> list[tuple[str, float, float, int]]:
    """(signing, µs to sign, µs to verify, token length) for each signing choice."""
    rows = [("HS256 (TOKEN_SIGNING=secret)", *_measure(create_app(Testing())))]
    for algorithm in ALGORITHMS:
        rows.append((f"{algorithm} (TOKEN_SIGNING=keys)", *_measure(_keys_app(algorithm))))
    return rows


def print_signing_costs(rows: list[tuple[str, float, float, int]]) -> None:
    print(
        f"signing and verifying one access token, in process "
        f"(best of {ROUNDS} rounds of {CALLS_PER_ROUND} calls):"
    )
    print()
    print(f"| {'signing':<30} | {'sign µs':>8} | {'verify µs':>9} | {'token bytes':>11} |")
    print(f"|{'-' * 32}|{'-' * 10}|{'-' * 11}|{'-' * 13}|")
    for name, sign, verify, length in rows:
        print(f"| {name:<30} | {sign:>8.0f} | {verify:>9.0f} | {length:>11} |")
    print()
