"""`/auth/tokens`: personal access tokens for scripts."""

from __future__ import annotations

from myapi.auth.routes import blp  # noqa: F401
