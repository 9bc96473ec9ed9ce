"""myapi: a Flask JSON API with revocable, scoped, rotating JWTs.

The factory is `myapi.create_app` (in `myapi.app`). It is imported on first use rather
than here, so that importing a light module of the package (`myapi.config`,
`myapi.serving`) does not load the whole app: the gunicorn master reads its settings from
`myapi.serving` and must not import prometheus_client before the metrics directory that
its workers share is chosen.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from myapi.app import create_app

        return create_app
    raise AttributeError(f"module 'myapi' has no attribute {name!r}")
