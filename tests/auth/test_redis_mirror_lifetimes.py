"""The Redis mirror's keys live at least as long as the tokens they speak for, plus the leeway
verifiers allow: a revocation that expired early would let a revoked token back in near its
end, and a session key that expired early would refuse a live refresh token."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import redis
from flask import Flask
from flask.testing import FlaskClient

from myapi.security.revocation import revocation_store
from tests.helpers.clock import Clock
from tests.helpers.http import bearer, refresh
from tests.helpers.oauth import Credentials
from tests.policy.helpers import claims_of

PREFIX = "myapi:revocation:"
#: Seconds that may pass between issuing a token and reading its key's TTL in a test.
SLACK = 5


def ttl_covers(redis_mirror: redis.Redis, key: str, token: str, app: Flask) -> tuple[int, int]:
    """(the key's TTL, the seconds it must at least cover: the token's life left + leeway)."""
    needed = claims_of(token)["exp"] - int(time.time()) + app.config["JWT_LEEWAY_SECONDS"]
    return redis_mirror.ttl(key), needed


def session_key(token: str) -> str:
    claims = claims_of(token)
    return f"{PREFIX}{{u:{claims['sub']}}}:sid:{claims['sid']}"


def test_a_revoked_access_token_stays_denied_until_its_expiry_plus_the_leeway(
    app: Flask, client: FlaskClient, redis_mirror: redis.Redis, alice_tokens: dict[str, Any]
) -> None:
    access = alice_tokens["access_token"]
    client.post("/auth/logout", headers=bearer(access))

    key = f"{PREFIX}{{u:{claims_of(access)['sub']}}}:jti:{claims_of(access)['jti']}"
    ttl, needed = ttl_covers(redis_mirror, key, access, app)

    assert needed - SLACK <= ttl <= needed + SLACK


def test_the_session_key_outlives_the_refresh_token_issued_at_login(
    app: Flask, redis_mirror: redis.Redis, alice_tokens: dict[str, Any]
) -> None:
    refresh_token = alice_tokens["refresh_token"]

    ttl, needed = ttl_covers(redis_mirror, session_key(refresh_token), refresh_token, app)

    assert needed - SLACK <= ttl <= needed + SLACK


def test_the_session_key_outlives_the_refresh_token_issued_by_a_rotation(
    app: Flask, client: FlaskClient, redis_mirror: redis.Redis, alice_tokens: dict[str, Any]
) -> None:
    rotated = refresh(client, alice_tokens["refresh_token"]).json["refresh_token"]

    ttl, needed = ttl_covers(redis_mirror, session_key(rotated), rotated, app)

    assert needed - SLACK <= ttl <= needed + SLACK


def test_no_key_is_written_for_a_token_no_verifier_accepts_any_more(
    app: Flask, redis_mirror: redis.Redis, clock: Clock
) -> None:
    # A token is accepted while `exp` is more than the leeway ago; one second decides.
    leeway = timedelta(seconds=app.config["JWT_LEEWAY_SECONDS"])
    beyond_reach = clock.now.replace(microsecond=0) - leeway
    clock.now = beyond_reach + leeway

    one_second_left = beyond_reach + timedelta(seconds=1)
    store = revocation_store()

    store.token_revoked("u:1", "gone", beyond_reach)
    store.token_revoked("u:1", "going", one_second_left)
    store.session_live_until(1, "ended", beyond_reach)
    store.session_live_until(1, "ending", one_second_left)

    assert redis_mirror.exists(f"{PREFIX}{{u:1}}:jti:gone", f"{PREFIX}{{u:1}}:sid:ended") == 0
    assert redis_mirror.ttl(f"{PREFIX}{{u:1}}:jti:going") == 1
    assert redis_mirror.ttl(f"{PREFIX}{{u:1}}:sid:ending") == 1


#: A holder's state (a user's role and active flag, a client's) is cached for ten minutes
#: after it is read, and dropped at once by every change (docs/security.md). Read back at
#: once, its key has less than a second of those gone.
HOLDER_STATE_MILLISECONDS = 600_000


def test_a_users_state_is_cached_for_ten_minutes(
    client: FlaskClient, redis_mirror: redis.Redis, alice_tokens: dict[str, Any]
) -> None:
    access = alice_tokens["access_token"]
    redis_mirror.delete(f"{PREFIX}{{u:{claims_of(access)['sub']}}}:account")

    client.get("/auth/me", headers=bearer(access))

    left = redis_mirror.pttl(f"{PREFIX}{{u:{claims_of(access)['sub']}}}:account")
    assert HOLDER_STATE_MILLISECONDS - 1000 < left <= HOLDER_STATE_MILLISECONDS


def test_a_clients_state_is_cached_for_ten_minutes(
    client: FlaskClient,
    redis_mirror: redis.Redis,
    make_client: Any,
    client_token: Any,
) -> None:
    credentials: Credentials = make_client()
    token = client_token(credentials)
    redis_mirror.delete(f"{PREFIX}{{c:{credentials.client_id}}}:client")

    client.get("/api/v1/notes", headers=bearer(token))

    left = redis_mirror.pttl(f"{PREFIX}{{c:{credentials.client_id}}}:client")
    assert HOLDER_STATE_MILLISECONDS - 1000 < left <= HOLDER_STATE_MILLISECONDS
