"""The auth blueprint: registration, login, token rotation, logout, sessions, personal
access tokens and connected apps, under /auth."""

from myapi.auth import grants, personal_tokens  # noqa: F401  (their routes register on blp)
from myapi.auth.routes import blp

__all__ = ["blp"]
