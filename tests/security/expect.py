"""The catalogue's answer shapes (401-IT, 401-NC, 403-IS, 400-IR) and forging helpers."""

from __future__ import annotations

import time
from typing import Any

import jwt

from tests.policy.helpers import LIBRARY_PHRASES
from tests.security.live import Reply

NO_CREDENTIALS = 'Bearer realm="myapi"'
INVALID_TOKEN = 'Bearer realm="myapi", error="invalid_token"'
INVALID_REQUEST = 'Bearer realm="myapi", error="invalid_request"'
PROBLEM = "application/problem+json"


def assert_generic_problem(reply: Reply, status: int) -> dict[str, Any]:
    """A problem+json answer with this status, carrying no library or stack-trace text."""
    assert reply.status == status, (reply.status, reply.text)
    assert reply.content_type == PROBLEM, reply.content_type
    for phrase in LIBRARY_PHRASES:
        assert phrase not in reply.text, phrase
    body = reply.json
    assert body["status"] == status
    return body


def assert_invalid_token(reply: Reply) -> None:
    """401-IT: RFC 6750 invalid_token challenge, generic body, not cacheable."""
    assert_generic_problem(reply, 401)
    assert reply.header("WWW-Authenticate") == INVALID_TOKEN
    assert reply.header("Cache-Control") == "no-store"


def assert_no_credentials(reply: Reply) -> None:
    """401-NC: a bare challenge, no `error` attribute."""
    assert_generic_problem(reply, 401)
    assert reply.header("WWW-Authenticate") == NO_CREDENTIALS


def assert_insufficient_scope(reply: Reply) -> None:
    """403-IS."""
    assert_generic_problem(reply, 403)
    challenge = reply.header("WWW-Authenticate") or ""
    assert challenge.startswith('Bearer realm="myapi", error="insufficient_scope"'), challenge


def assert_invalid_request(reply: Reply) -> None:
    """400-IR."""
    assert_generic_problem(reply, 400)
    assert reply.header("WWW-Authenticate") == INVALID_REQUEST


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def now() -> int:
    return int(time.time())


def resign(token: str, key: str, **changes: Any) -> str:
    """A real token's claims with `changes` (None deletes a claim), signed with `key`."""
    claims = claims_of(token)
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return jwt.encode(claims, key, algorithm="HS256")
