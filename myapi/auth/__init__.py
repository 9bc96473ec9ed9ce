"""The auth blueprint: registration, login, token rotation, logout, sessions and personal
access tokens, under /auth."""

from myapi.auth import personal_tokens  # noqa: F401  (its routes register on blp)
from myapi.auth.routes import blp

__all__ = ["blp"]
