"""Contract of `myapi.adapters.limits_storage` with limits 5 and Flask-Limiter 4.

The storage is chosen through the documented storage registry and overrides the public
`Storage` methods; what it relies on beyond that is how Flask-Limiter calls them in one
request (count, then read the same window for the headers) and the shape of its keys
(the caller's hash tag must be the first `{...}` for Redis Cluster). These tests fail if
an upgrade changes either.
"""

from __future__ import annotations

import os
from typing import Any

import flask_limiter
import limits
import redis
from flask import Flask
from flask.testing import FlaskClient
from limits.storage import storage_from_string

from myapi.adapters.limits_storage import PiggybackRedisStorage
from myapi.models import User

REDIS_URL_FOR_REGISTRY = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def test_the_libraries_are_the_versions_the_adapter_was_written_for() -> None:
    assert limits.__version__.startswith("5.")
    assert flask_limiter.__version__.startswith("4.")


def test_the_registry_selects_the_storage_by_its_scheme() -> None:
    storage = storage_from_string("myapi+" + REDIS_URL_FOR_REGISTRY)

    assert isinstance(storage, PiggybackRedisStorage)


def test_the_app_uses_it_when_the_limiter_shares_the_revocation_redis(
    app: Flask, redis_round_trips: list[str]
) -> None:
    limiter = next(iter(app.extensions["limiter"]))

    assert isinstance(limiter.storage, PiggybackRedisStorage)


def test_one_request_counts_once_and_answers_its_headers_from_that_count(
    client: FlaskClient, alice_headers: dict[str, str], redis_round_trips: list[str]
) -> None:
    client.get("/auth/token-info", headers=alice_headers)
    redis_round_trips.clear()

    first = client.get("/auth/token-info", headers=alice_headers)
    second = client.get("/auth/token-info", headers=alice_headers)

    assert redis_round_trips == ["EVALSHA", "EVALSHA"]
    assert int(first.headers["X-RateLimit-Remaining"]) - 1 == int(
        second.headers["X-RateLimit-Remaining"]
    )


def test_a_callers_counter_carries_the_callers_hash_tag_first(
    app: Flask,
    client: FlaskClient,
    alice: User,
    alice_headers: dict[str, str],
    redis_round_trips: list[str],
) -> None:
    client.get("/auth/token-info", headers=alice_headers)

    keys: list[Any] = redis.Redis.from_url(app.config["REDIS_URL"]).keys("LIMITS*")

    tagged = [key.decode() for key in keys if f"{{u:{alice.id}}}".encode() in key]
    assert tagged
    assert all(key[key.index("{") :].startswith(f"{{u:{alice.id}}}") for key in tagged)
