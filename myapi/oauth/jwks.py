"""`/.well-known/jwks.json`: the public signing keys other services verify tokens with."""

from __future__ import annotations

from myapi.oauth import blp  # noqa: F401
