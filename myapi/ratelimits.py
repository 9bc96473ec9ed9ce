"""Who a rate limit counts (the address, the account a login names, the OAuth client), and how.

Counting goes through Flask-Limiter; with Redis storage each limit costs one round trip
per request (`OneTripFixedWindow`).
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any
from urllib.parse import unquote

from flask import has_request_context, request
from limits import RateLimitItem
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter
from limits.util import WindowStats

from myapi.models import CLIENT_ID_FORMAT


def client_ip() -> str:
    """The peer address; `TRUSTED_PROXIES` decides upstream whether it may come from a proxy."""
    return request.remote_addr or "unknown"


def login_account_key() -> str:
    """Count login attempts per account, whichever address they come from.

    An existing account is counted by id, so alternating its username and its
    email does not double the attempts allowed.
    """
    from myapi.accounts import find_user  # here: accounts needs the extensions, which need us

    body = request.get_json(silent=True)
    identifier = body.get("username") if isinstance(body, dict) else None
    if not isinstance(identifier, str) or not identifier.strip():
        return "address:" + client_ip()
    user = find_user(identifier[:254])
    return f"user:{user.id}" if user else "account:" + identifier.strip().lower()[:254]


def claimed_client_id() -> str | None:
    """The OAuth client id a request names (HTTP Basic user, else the form's `client_id`),
    if it has the shape of one; nothing is looked up and no secret is read."""
    claimed: str | None = None
    scheme, _, credentials = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        claimed = unquote(decoded.partition(":")[0])
    elif request.mimetype == "application/x-www-form-urlencoded":
        claimed = request.form.get("client_id")
    return claimed if claimed and CLIENT_ID_FORMAT.fullmatch(claimed) else None


def oauth_client_key() -> str:
    """Count token requests per OAuth client, else (no client named) per address."""
    client_id = claimed_client_id()
    return "client:" + client_id if client_id else "address:" + client_ip()


# One script does what the fixed-window strategy does in three commands (INCRBY with
# EXPIRE, then GET and TTL for the headers): count the hit and read back its window.
_HIT_AND_READ_WINDOW = """
local current = redis.call("incrby", KEYS[1], ARGV[2])
if tonumber(current) == tonumber(ARGV[2]) then
    redis.call("expire", KEYS[1], ARGV[1])
end
return {current, redis.call("ttl", KEYS[1])}
"""
_WINDOWS = "myapi.ratelimit_windows"


class OneTripFixedWindow(FixedWindowRateLimiter):
    """The fixed-window strategy, remembering each hit's window for the rest of the request.

    Flask-Limiter counts a hit before the view (one round trip), then asks twice more
    for the same window's count and expiry to write the X-RateLimit-* headers. Here
    the hit's script returns both, and the headers of the same request are answered
    from that. The answer lives in the WSGI environ, so it never outlives the request
    and never crosses workers; limits themselves are still counted only in Redis.
    """

    def __init__(self, storage: Any) -> None:
        super().__init__(storage)
        self._script = storage.get_connection().register_script(_HIT_AND_READ_WINDOW)

    def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        key = item.key_for(*identifiers)
        count, ttl = self._script([self.storage.prefixed_key(key)], [item.get_expiry(), cost])
        if has_request_context():
            windows = request.environ.setdefault(_WINDOWS, {})
            windows[key] = (int(count), max(int(ttl), 0) + time.time())
        return int(count) <= item.amount

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        key = item.key_for(*identifiers)
        seen = request.environ.get(_WINDOWS, {}).get(key) if has_request_context() else None
        if seen is None:
            return super().get_window_stats(item, *identifiers)
        count, reset = seen
        return WindowStats(reset, max(0, item.amount - count))


def one_trip_strategy(storage: Any, strategy: Any) -> Any:
    """The one-trip strategy for Redis storage with fixed windows; otherwise `strategy` as is."""
    if isinstance(storage, RedisStorage) and type(strategy) is FixedWindowRateLimiter:
        return OneTripFixedWindow(storage)
    return strategy
