"""A separate resource server, run as its own process: it knows only the JWKS URL.

    python resource_server.py JWKS_URL ISSUER AUDIENCE CACHE_SECONDS

Reads one token per line on stdin and answers one JSON line per token on stdout:
{"valid": true, "kid", "alg", "sub"} or {"valid": false, "error"}. Nothing of the
service is imported: only PyJWT, as another team's service would verify.

The line `?kids` instead answers {"kids": [...]}: the kids a token would be checked
against now, from the cached key set, or from a fresh fetch once the cache has expired,
exactly as the next verification would get them (never the early refetch that an
unknown kid may trigger). The tests poll it to learn when this cache has a new key.

PyJWKClient keeps the key set CACHE_SECONDS, and refetches it early for an unknown
kid at most once per `cooldown_duration` (30 s): a key must be published before it
signs, which is why `flask keys generate` pre-publishes it as `next`.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import jwt

KIDS_QUERY = "?kids"


def known_kids(keys: jwt.PyJWKClient) -> list[str]:
    """The kids of the key set as `get_signing_key` first looks at it (cache, or fetch if stale)."""
    return sorted(key.key_id for key in keys.get_signing_keys())


def verify(keys: jwt.PyJWKClient, token: str, issuer: str, audience: str) -> dict[str, Any]:
    """The key by kid from the JWKS, and that key's own algorithm, pinned."""
    try:
        key = keys.get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key,
            algorithms=[key.algorithm_name],
            issuer=issuer,
            audience=audience,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as error:
        return {"valid": False, "error": type(error).__name__}
    return {"valid": True, "kid": key.key_id, "alg": key.algorithm_name, "sub": claims["sub"]}


def main() -> None:
    jwks_url, issuer, audience, cache_seconds = sys.argv[1:5]
    keys = jwt.PyJWKClient(jwks_url, lifespan=float(cache_seconds), timeout=5)
    for line in sys.stdin:
        if line.strip() == KIDS_QUERY:
            answer: dict[str, Any] = {"kids": known_kids(keys)}
        else:
            answer = verify(keys, line.strip(), issuer, audience)
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
