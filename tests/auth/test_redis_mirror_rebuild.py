"""After Redis loses its data, each user's revocation state is rebuilt from the database:
their own live sessions work again, what was revoked stays revoked, to the leeway's end."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from myapi.extensions import db
from myapi.models import AuthSession, User
from tests.auth.observe import claims, me
from tests.helpers.clock import Clock
from tests.helpers.http import bearer

Login = Callable[..., dict[str, Any]]


def test_each_user_gets_back_exactly_their_own_sessions(
    client: FlaskClient, redis_mirror: redis.Redis, alice: User, bob: User, login: Login
) -> None:
    alices_laptop, alices_phone, bobs = login("alice"), login("alice"), login("bob")
    client.post("/auth/logout", headers=bearer(alices_phone["access_token"]))

    redis_mirror.flushdb()

    assert me(client, alices_laptop["access_token"]).status_code == 200
    assert me(client, alices_phone["access_token"]).status_code == 401
    assert me(client, bobs["access_token"]).status_code == 200


def test_a_revoked_token_in_its_leeway_stays_revoked(
    app: Flask,
    client: FlaskClient,
    redis_mirror: redis.Redis,
    clock: Clock,
    alice: User,
    login: Login,
) -> None:
    # Issued a lifetime and 5 seconds ago: expired, but verifiers accept it for the leeway.
    app.config["JWT_LEEWAY_SECONDS"] = 60
    app.config["JWT_DECODE_LEEWAY"] = 60  # as myapi.library_settings derives it at start
    present = datetime.now(UTC)  # the clock fixture has replaced utcnow()
    clock.now = present - timedelta(minutes=app.config["ACCESS_TOKEN_MINUTES"], seconds=5)
    access = login("alice")["access_token"]
    revoked = client.post("/oauth/revoke", data={"token": access}, headers=bearer(access))
    assert revoked.status_code == 200
    clock.now = present  # the denial's row says "expired 5 seconds ago"

    redis_mirror.flushdb()

    assert me(client, access).status_code == 401


def test_a_session_that_ends_this_second_is_left_out_of_the_rebuild(
    app: Flask,
    client: FlaskClient,
    redis_mirror: redis.Redis,
    clock: Clock,
    alice: User,
    login: Login,
) -> None:
    here, ending = login("alice"), login("alice")
    gone = clock.now - timedelta(seconds=app.config["JWT_LEEWAY_SECONDS"])
    db.session.execute(
        update(AuthSession)
        .where(AuthSession.id == claims(ending["access_token"])["sid"])
        .values(access_expires_at=gone, refresh_expires_at=gone)
    )
    db.session.commit()

    redis_mirror.flushdb()

    assert me(client, here["access_token"]).status_code == 200
