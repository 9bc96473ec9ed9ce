"""Who a rate limit counts: the caller a request authenticates as, else its address.

Limits are counted by Flask-Limiter in the configured storage (shared Redis in
production); with Redis a limit costs one round trip, shared with the revocation check
(`adapters.limits_storage`). Endpoint-specific keys live next to the endpoints that use
them (the OAuth client that authenticated), or with the service that knows what they name
(the account a login names: `services.accounts.attempt_key`); a request that names none is
counted by `address_key`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from flask import Response, current_app, request

# Set by `security.authentication.identify_caller` before the limiter runs.
_CALLER = "myapi.caller"


def client_ip() -> str:
    """The peer address; `TRUSTED_PROXIES` decides upstream whether it may come from a proxy."""
    return request.remote_addr or "unknown"


def address_key() -> str:
    """The key of a request counted by where it comes from: it names no caller, account or
    client that a limit could count instead."""
    return "address:" + client_ip()


def configured_limit(setting: str) -> Callable[[], str]:
    """A limit read from the configuration at each request, so a changed setting applies
    without a restart."""
    return lambda: current_app.config[setting]


def count_caller_as(holder: str) -> None:
    """Count this request for `holder` (`u:<id>`, `c:<client id>`), recognised by its token."""
    request.environ[_CALLER] = holder


def caller_key() -> str:
    """The default limit's key: the authenticated caller, else the address.

    Per caller, an account is limited wherever its requests come from, and users behind
    one address do not share a budget; a request whose credential was not recognised is
    counted per address. The holder's hash tag (`{u:42}`) keeps the counter on the same
    Redis Cluster slot as that holder's revocation keys, which are read in the same call.
    """
    holder = request.environ.get(_CALLER)
    return f"{{{holder}}}" if holder else address_key()


def refund_hit(key: str) -> None:
    """Give back this request's hit on the limits it counted for `key`.

    For limits that must count before the outcome is known (a login's per-account limit:
    counting first is what makes it hold under concurrency) but should only keep the
    outcomes that matter (failed guesses). Through the limiter's public `current_limits`;
    the counter is decremented in its storage, shared by every worker and host.
    """
    for limiter in current_app.extensions.get("limiter", ()):
        for limit in limiter.current_limits:
            if key in limit.request_args:
                limiter.limiter.hit(limit.limit, *limit.request_args, cost=-1)


def add_rate_limit_headers(response: Response) -> Response:
    """`X-RateLimit-Limit/-Remaining/-Reset` for the limit that governed the request, and
    `Retry-After` on a 429 only.

    Read from the limiter's public `current_limit` (the limit with the least left, or
    the one breached). A 503 keeps the `Retry-After` of the outage it reports: seconds,
    not the limiter's window of a minute or an hour.
    """
    for limiter in current_app.extensions.get("limiter", ()):
        limit = limiter.current_limit
        if limit is None:
            continue
        reset_at = limit.reset_at
        response.headers["X-RateLimit-Limit"] = str(limit.limit.amount)
        response.headers["X-RateLimit-Remaining"] = str(limit.remaining)
        response.headers["X-RateLimit-Reset"] = str(reset_at)
        if response.status_code == 429:
            response.headers["Retry-After"] = str(max(0, math.ceil(reset_at - time.time())))
    return response
