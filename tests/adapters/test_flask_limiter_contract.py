"""Contract of `myapi.adapters.flask_limiter` with Flask-Limiter 4.1.

The adapter overrides the library's before-request check and reads some of its private
attributes. These tests fail if an upgrade renames them, stops calling the check the same
way, or if the fast path ever answers differently from the library itself.
"""

from __future__ import annotations

import inspect
from typing import Any

import flask_limiter
import pytest
from flask import Blueprint, Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from myapi.adapters.flask_limiter import FastPathLimiter

PRIVATE_ATTRIBUTES = (
    "_key_prefix",
    "_request_filters",
    "_meta_limits",
    "_on_breach",
    "_marked_for_limiting",
    "_storage_dead",
    "_fail_on_first_breach",
)


def test_the_library_is_the_version_the_adapter_was_written_for() -> None:
    assert flask_limiter.__version__.startswith("4.1.")


def test_the_overridden_check_still_has_the_upstream_signature() -> None:
    upstream = inspect.signature(Limiter._check_request_limit)

    assert list(upstream.parameters) == ["self", "callable_name", "in_middleware"]
    assert upstream.parameters["in_middleware"].default is True


def make_app(limiter_class: type[Limiter], *, exempt_blueprint: bool = False) -> Flask:
    app = Flask(__name__)
    app.config.update(RATELIMIT_STORAGE_URI="memory://", RATELIMIT_KEY_PREFIX="contract")
    limiter = limiter_class(get_remote_address, default_limits=["3 per minute"])
    probes = Blueprint("probes", __name__)

    @app.get("/limited")
    def limited() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/decorated")
    @limiter.limit("2 per minute")
    def decorated() -> dict[str, str]:
        return {"status": "ok"}

    @probes.get("/probe")
    def probe() -> dict[str, str]:
        return {"status": "ok"}

    if exempt_blueprint:
        limiter.exempt(probes)
    app.register_blueprint(probes)
    limiter.init_app(app)

    @app.after_request
    def report(response: Any) -> Any:
        current = limiter.current_limit
        if current is not None:
            response.headers["X-Remaining"] = str(current.remaining)
            response.headers["X-Key"] = current.key
        return response

    return app


def answers(app: Flask, path: str, times: int) -> list[tuple[int, str | None, str | None]]:
    client = app.test_client()
    replies = [client.get(path) for _ in range(times)]
    return [(r.status_code, r.headers.get("X-Remaining"), r.headers.get("X-Key")) for r in replies]


@pytest.mark.parametrize("path", ["/limited", "/decorated", "/probe"])
@pytest.mark.parametrize("exempt", [False, True])
def test_the_fast_path_answers_exactly_as_the_library(path: str, exempt: bool) -> None:
    library = answers(make_app(Limiter, exempt_blueprint=exempt), path, 5)
    fast_app = make_app(FastPathLimiter, exempt_blueprint=exempt)
    fast = answers(fast_app, path, 5)

    assert fast == library
    expected_plan = {"/limited": "defaults", "/decorated": "library"}.get(
        path, "exempt" if exempt else "defaults"
    )
    assert list(fast_app.extensions["myapi.rate_limit_plans"].values()) == [expected_plan]


def test_the_library_still_registers_the_check_and_the_private_state_it_reads() -> None:
    app = make_app(FastPathLimiter)
    [limiter] = app.extensions["limiter"]

    checks = [getattr(hook, "__func__", None) for hook in app.before_request_funcs[None]]
    assert FastPathLimiter._check_request_limit in checks
    for name in PRIVATE_ATTRIBUTES:
        assert hasattr(limiter, name), name
    manager = limiter.limit_manager
    assert callable(manager.resolve_limits)
    assert callable(manager.has_hints)
    assert [group.limit_provider for group in manager._default_limits] == ["3 per minute"]
    assert [str(limit.limit) for limit in manager.default_limits] == ["3 per 1 minute"]
