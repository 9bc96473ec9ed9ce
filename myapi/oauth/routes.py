"""OAuth 2 endpoints: token (client credentials), revocation, introspection, metadata."""

from __future__ import annotations

from myapi.oauth import blp  # noqa: F401
