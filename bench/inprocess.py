"""CPU per request in process: each path through its WSGI app, without HTTP or wrk.

The wrk table measures the whole stack under load; this separates the app's own CPU from
gunicorn, the network and the neighbours on the machine. Every path is called the same way,
with the same headers as wrk sends, and timed with `time.process_time`.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import time
from collections.abc import Callable
from typing import Any

from werkzeug.test import EnvironBuilder

CALLS = 3000


def _caller(wsgi: Callable[..., Any], path: str, headers: dict[str, str]) -> Callable[[], str]:
    def call() -> str:
        environ = EnvironBuilder(path=path, headers=headers).get_environ()
        statuses: list[str] = []
        body = wsgi(environ, lambda status, _headers, _exc=None: statuses.append(status))
        for _ in body:
            pass
        if hasattr(body, "close"):
            body.close()
        return statuses[0]

    return call


def _cpu_microseconds(call: Callable[[], str]) -> float:
    for _ in range(100):
        status = call()
    if not status.startswith("200"):
        raise RuntimeError(f"in-process bench got {status}")
    started = time.process_time()
    for _ in range(CALLS):
        call()
    return (time.process_time() - started) / CALLS * 1e6


def cpu_per_request(env: dict[str, str], token: str) -> list[tuple[str, float]]:
    """(path, µs of CPU per request) for the floor, the recipe and the service's hot paths."""
    saved = dict(os.environ)
    os.environ.update(env)
    # The request log is written as in production, to a sink instead of the bench's output.
    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):
        try:
            return _measure(env, token)
        finally:
            os.environ.clear()
            os.environ.update(saved)


def _measure(env: dict[str, str], token: str) -> list[tuple[str, float]]:
    from myapi import create_app

    service = create_app("production")
    bare = importlib.import_module("bench.bare_app").app
    headers = {
        "Authorization": f"Bearer {token}",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": "198.51.100.7",
    }
    paths = [("bare Flask view", bare, "/healthz")]
    if env.get("REDIS_URL"):
        recipe = importlib.import_module("bench.jwt_recipe").app
        paths.append(("flask-jwt-extended recipe, token-info", recipe, "/auth/token-info"))
    paths += [
        ("GET /healthz", service, "/healthz"),
        ("GET /auth/token-info", service, "/auth/token-info"),
        ("GET /auth/me", service, "/auth/me"),
    ]
    return [(name, _cpu_microseconds(_caller(app, path, headers))) for name, app, path in paths]


def print_cpu_per_request(rows: list[tuple[str, float]]) -> None:
    print(f"CPU per request in process ({CALLS} calls each, no HTTP):")
    print()
    print(f"| {'path':<44} | {'CPU µs':>7} |")
    print(f"|{'-' * 46}|{'-' * 9}|")
    for name, micros in rows:
        print(f"| {name:<44} | {micros:>7.0f} |")
    print()
