"""The protected blueprint: the API's resources, under /api/v1, each guarded by scopes."""

from myapi.protected.routes import blp

__all__ = ["blp"]
