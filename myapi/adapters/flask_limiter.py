"""Flask-Limiter 4.1, with a fast path for the requests that only the default limit governs.

Before every request, `flask_limiter.Limiter._check_request_limit(callable_name=None,
in_middleware=True)` (Flask-Limiter 4.1.1, `_extension.py`) works out afresh which limits
apply: application, default, blueprint, decorated and meta limits and every exemption
scope, parsing the limit strings and building the keys again. That resolution cost more
per request than verifying a token. Its answer depends only on the endpoint and on how
the app registered its limits, so this module asks the library once per endpoint
(`limit_manager.resolve_limits`) and remembers whether the endpoint is governed by the
default limits alone (or exempt from all); for those endpoints it counts the default
limits exactly as the library's `__evaluate_limits` would (same keys, same strategy and
storage, same `RequestLimit` in the library's request context, same `RateLimitExceeded`).
Every other request, and every request while the storage is down (the library's
in-memory fallback), goes through the library unchanged.

What it relies on, pinned by `setup.cfg` (`flask-limiter<4.2`) and checked by
`tests/adapters/test_flask_limiter_contract.py`: `_check_request_limit` as the
before-request hook; the attributes `limit_manager`, `context`, `limiter`, `_key_prefix`,
`_request_filters`, `_meta_limits`, `_on_breach`, `_marked_for_limiting`,
`_storage_dead`, `_fail_on_first_breach`; `LimitManager.resolve_limits`,
`LimitManager.default_limits` and `has_hints`; `RuntimeLimit`'s fields.
"""

from __future__ import annotations

import logging
from typing import Any

import flask
from flask_limiter import Limiter, RateLimitExceeded, RequestLimit
from flask_limiter.util import get_qualified_name

log = logging.getLogger("flask-limiter")

_EXEMPT = "exempt"
_DEFAULTS = "defaults"
_LIBRARY = "library"
_PLANS = "myapi.rate_limit_plans"


class FastPathLimiter(Limiter):
    """`Limiter` that counts default-only endpoints without re-resolving their limits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._parsed_defaults: dict[tuple[str, ...], list[Any]] = {}

    def _check_request_limit(
        self, callable_name: str | None = None, in_middleware: bool = True
    ) -> None:
        plan = self._plan(callable_name, in_middleware)
        if plan == _EXEMPT:
            return
        if plan == _LIBRARY:
            super()._check_request_limit(callable_name, in_middleware)
            return
        try:
            self._count_defaults()
        except RateLimitExceeded:
            raise
        except Exception:  # the storage failed: the library owns the fallback
            super()._check_request_limit(callable_name, in_middleware)

    def _plan(self, callable_name: str | None, in_middleware: bool) -> str:
        endpoint = flask.request.endpoint
        if (
            not in_middleware
            or callable_name is not None
            or not endpoint
            or self._storage_dead
            or not (self.enabled and self.initialized)
        ):
            return _LIBRARY
        app = flask.current_app._get_current_object()  # type: ignore[attr-defined]
        plans = app.extensions.setdefault(_PLANS, {})
        plan = plans.get(endpoint)
        if plan is None:
            plan = plans[endpoint] = self._resolve_plan(app, endpoint, flask.request.blueprint)
        return plan

    def _resolve_plan(self, app: flask.Flask, endpoint: str, blueprint: str | None) -> str:
        """What the library would apply to `endpoint`, reduced to one of three plans."""
        if self._request_filters or self._meta_limits or self._on_breach:
            return _LIBRARY
        view = app.view_functions.get(endpoint)
        name = get_qualified_name(view) if view else ""
        if name in self._marked_for_limiting or self.limit_manager.has_hints(endpoint):
            return _LIBRARY
        defaults, decorated = self.limit_manager.resolve_limits(
            app, endpoint, blueprint, name, in_middleware=True, marked_for_limiting=False
        )
        if decorated:
            return _LIBRARY
        if not defaults:
            return _EXEMPT
        plain = all(
            not limit.per_method
            and not limit.methods
            and limit.exempt_when is None
            and limit.deduct_when is None
            and limit.on_breach is None
            and not limit.meta_limits
            for limit in defaults
        )
        return _DEFAULTS if plain else _LIBRARY

    def _default_limits(self) -> list[Any]:
        """The default `RuntimeLimit`s, parsed once per distinct set of limit strings."""
        strings = tuple(
            group.limit_provider() if callable(group.limit_provider) else group.limit_provider
            for group in self.limit_manager._default_limits
        )
        parsed = self._parsed_defaults.get(strings)
        if parsed is None:
            parsed = self._parsed_defaults[strings] = sorted(
                self.limit_manager.default_limits, key=lambda limit: limit.limit
            )
        return parsed

    def _count_defaults(self) -> None:
        """`__evaluate_limits` for default limits only, with no callbacks or meta limits."""
        request = flask.request
        endpoint = request.endpoint
        failed = None
        view_limits: list[RequestLimit] = []
        for limit in self._default_limits():
            args = [limit.key_func(), limit.scope_for(endpoint, request.method)]
            if not all(args):
                log.error("Skipping limit: %s. Empty value found in parameters.", limit.limit)
                continue
            if self._key_prefix:
                args = [self._key_prefix, *args]
            request_limit = RequestLimit(self, limit.limit, args, False, limit.shared)
            view_limits.append(request_limit)
            if not self.limiter.hit(limit.limit, *args, cost=limit.deduction_amount):
                log.info("ratelimit %s (%s) exceeded at endpoint: %s", limit.limit, *args[-2:])
                request_limit.breached = True
                failed = failed or limit
                if self._fail_on_first_breach:
                    break
        breached = [limit for limit in view_limits if limit.breached]
        unshared = [limit for limit in view_limits if not limit.shared]
        context = self.context
        if breached:
            context.view_rate_limit = breached[-1]
        else:
            context.view_rate_limit = (unshared or view_limits or [None])[0]
        context.view_rate_limits = view_limits
        if failed is not None:
            raise RateLimitExceeded(failed)
