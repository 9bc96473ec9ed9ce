"""A `limits` Redis storage that counts a hit, reads its window and answers other reads in one trip.

Selected through the `limits` storage registry (a `Storage` subclass registers its
`STORAGE_SCHEME`), the documented way to plug a storage into Flask-Limiter: the factory
sets `RATELIMIT_STORAGE_URI` to `myapi+redis://...` when the limiter and the revocation
mirror share one Redis (`myapi.extensions.limiter_storage_uri`).

With limits 5.x and Flask-Limiter 4.x (`setup.cfg` pins `limits<6`, `flask-limiter<5`;
`tests/adapters/test_limits_storage_contract.py` checks the calls below), a fixed-window
limit costs three Redis round trips per request: `incr` (a script) to count, then `get`
and `get_expiry` when Flask-Limiter writes the `X-RateLimit-*` headers. Here:

- `incr` runs one script that counts the hit, reads the window's TTL and, in the same
  call, the keys another part of the request asked for (`PiggybackRead`): the revocation
  check's keys, so rate limiting and revocation cost one round trip together;
- `get` and `get_expiry` of a key this request has just counted are answered from that
  script's reply, kept in the WSGI environ (never past the request, never across workers).

Counters live only in Redis, shared by every worker and host, exactly as with the stock
storage. Redis Cluster can run the script when every key shares a hash tag: the
per-caller limit keys (`{u:...}`) and the revocation keys are built that way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from flask import has_request_context, request
from limits.storage import RedisStorage

from myapi.logs import report_recovery

SCHEME_PREFIX = "myapi+"
_PIGGYBACK = "myapi.piggyback_read"
_WINDOWS = "myapi.ratelimit_windows"

_COUNT_AND_READ = """
local current = redis.call("incrby", KEYS[1], ARGV[2])
if tonumber(current) == tonumber(ARGV[2]) then
    redis.call("expire", KEYS[1], ARGV[1])
end
local ttl = redis.call("ttl", KEYS[1])
if #KEYS > 1 then
    return {current, ttl, redis.call("mget", unpack(KEYS, 2, #KEYS))}
end
return {current, ttl, {}}
"""


@dataclass
class PiggybackRead:
    """Keys to read with the request's first rate-limit hit; `values` is set by that hit."""

    keys: list[str]
    values: list[str | None] | None = field(default=None)


def request_piggyback(read: PiggybackRead) -> None:
    """Ask the request's first rate-limit hit to read `read.keys` in its round trip."""
    request.environ[_PIGGYBACK] = read


class PiggybackRedisStorage(RedisStorage):
    """The `redis`/`rediss` storage, under the `myapi+redis`/`myapi+rediss` schemes."""

    STORAGE_SCHEME: ClassVar[list[str]] = [SCHEME_PREFIX + "redis", SCHEME_PREFIX + "rediss"]

    def __init__(self, uri: str, **options: Any) -> None:
        super().__init__(uri.removeprefix(SCHEME_PREFIX), **options)
        self._count_and_read = self.get_connection().register_script(_COUNT_AND_READ)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        read = request.environ.pop(_PIGGYBACK, None) if has_request_context() else None
        keys = [self.prefixed_key(key), *(read.keys if read else ())]
        count, ttl, values = self._count_and_read(keys, [expiry, amount])
        report_recovery("redis")
        if read is not None:
            read.values = [None if value is None else value.decode() for value in values]
        if has_request_context():
            reset = max(int(ttl), 0) + time.time()
            request.environ.setdefault(_WINDOWS, {})[key] = (int(count), reset)
        return int(count)

    def get(self, key: str) -> int:
        counted = self._counted(key)
        return counted[0] if counted is not None else super().get(key)

    def get_expiry(self, key: str) -> float:
        counted = self._counted(key)
        return counted[1] if counted is not None else super().get_expiry(key)

    @staticmethod
    def _counted(key: str) -> tuple[int, float] | None:
        if not has_request_context():
            return None
        return request.environ.get(_WINDOWS, {}).get(key)
