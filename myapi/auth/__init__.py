"""The auth blueprint: registration, login, token rotation, logout and sessions, under /auth."""

from myapi.auth.routes import blp

__all__ = ["blp"]
