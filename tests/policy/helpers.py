"""Helpers for the policy tests: forging tokens with PyJWT and reading RFC 6750 answers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt

NO_CREDENTIALS_CHALLENGE = 'Bearer realm="myapi"'
INVALID_TOKEN_CHALLENGE = 'Bearer realm="myapi", error="invalid_token"'
INVALID_REQUEST_CHALLENGE = 'Bearer realm="myapi", error="invalid_request"'
INVALID_TOKEN_DETAIL = "The bearer token is invalid, expired or revoked."

# Words from PyJWT's and flask-jwt-extended's exception messages; none may reach a client.
LIBRARY_PHRASES = (
    '"msg"',
    "Signature verification failed",
    "Not enough segments",
    "The specified alg value is not allowed",
    "Token has expired",
    "not yet valid",
    "Invalid audience",
    "Invalid issuer",
    "Missing claim",
    "Only non-refresh tokens are allowed",
    "Only refresh tokens are allowed",
    "Invalid header",
    "Invalid payload",
    "Invalid crypto padding",
    "Unsupported critical extension",
    "Traceback",
)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims_of(token: str) -> dict[str, Any]:
    """The payload of a real token, read without verifying it."""
    return jwt.decode(token, options={"verify_signature": False})


def sign(
    claims: dict[str, Any],
    key: str,
    *,
    algorithm: str = "HS256",
    header: dict[str, Any] | None = None,
) -> str:
    """A token signed with the key, as PyJWT would issue it."""
    return jwt.encode(claims, key, algorithm=algorithm, headers=header)


def hs256_raw(header: dict[str, Any], claims: dict[str, Any], key: bytes) -> str:
    """An HS256 token built by hand, for headers and keys PyJWT refuses to encode."""
    signing_input = f"{b64url_json(header)}.{b64url_json(claims)}"
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def hs256_from_json(header_json: str, claims_json: str, key: bytes) -> str:
    """An HS256 token over JSON text exactly as given (duplicate member names included)."""
    signing_input = f"{b64url(header_json.encode())}.{b64url(claims_json.encode())}"
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def unsigned(claims: dict[str, Any], alg: str, signature: str = "") -> str:
    """An `alg: none`-style token carrying the given signature (empty by default)."""
    return f"{b64url_json({'alg': alg, 'typ': 'JWT'})}.{b64url_json(claims)}.{signature}"


def with_payload(token: str, claims: dict[str, Any]) -> str:
    """The token with its payload replaced and the original header and signature kept."""
    header, _payload, signature = token.split(".")
    return f"{header}.{b64url_json(claims)}.{signature}"


INVALID_TOKEN_BODY = {
    "type": "urn:myapi:problem:invalid-token",
    "title": "Unauthorized",
    "status": 401,
    "detail": INVALID_TOKEN_DETAIL,
}
NO_CREDENTIALS_DETAIL = "This operation needs a bearer token in the Authorization header."


def _challenge_defects(response: Any, challenge: str, body: dict[str, Any]) -> list[str]:
    """What is wrong with a 401 answer, compared with the expected challenge and body."""
    defects = []
    if response.status_code != 401:
        defects.append(f"status {response.status_code}")
    if response.mimetype != "application/problem+json":
        defects.append(f"media type {response.mimetype}")
    if response.headers.get("WWW-Authenticate") != challenge:
        defects.append(f"challenge {response.headers.get('WWW-Authenticate')!r}")
    if response.headers.get("Cache-Control") != "no-store":
        defects.append("cacheable")
    text = response.get_data(as_text=True)
    if response.is_json and response.json != body:
        defects.append(f"body {text}")
    defects.extend(f"library text {phrase!r}" for phrase in LIBRARY_PHRASES if phrase in text)
    return defects


def invalid_token_defects(response: Any) -> list[str]:
    """Empty when the answer is a 401 invalid_token with the fixed generic body."""
    return _challenge_defects(response, INVALID_TOKEN_CHALLENGE, INVALID_TOKEN_BODY)


def no_credentials_defects(response: Any) -> list[str]:
    """Empty when the answer is a 401 with a bare challenge (RFC 6750 section 3)."""
    body = {
        "type": "urn:myapi:problem:unauthenticated",
        "title": "Unauthorized",
        "status": 401,
        "detail": NO_CREDENTIALS_DETAIL,
    }
    return _challenge_defects(response, NO_CREDENTIALS_CHALLENGE, body)


def assert_no_credentials(response: Any) -> dict[str, Any]:
    """401 with a bare challenge: no `error` attribute when no credentials were sent."""
    assert no_credentials_defects(response) == []
    return response.json


def assert_invalid_token(response: Any) -> dict[str, Any]:
    """401 invalid_token whose body is the fixed generic text, never the library's message."""
    assert invalid_token_defects(response) == []
    return response.json


def assert_each_invalid_token(responses: dict[str, Any]) -> None:
    """Every labelled answer is a 401 invalid_token; a failure lists each case that is not."""
    defects = {case: found for case, r in responses.items() if (found := invalid_token_defects(r))}
    assert defects == {}


def assert_each_no_credentials(responses: dict[str, Any]) -> None:
    """Every labelled answer is a bare 401 challenge; a failure lists each case that is not."""
    defects = {case: found for case, r in responses.items() if (found := no_credentials_defects(r))}
    assert defects == {}
