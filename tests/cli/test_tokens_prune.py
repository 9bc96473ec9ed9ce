"""`flask tokens prune`: expired revocation rows go, anything that still guards a token stays."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import jwt as pyjwt
import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from myapi.clock import utcnow
from myapi.extensions import db
from myapi.models import AuthSession, PersonalAccessToken, RevokedToken, User
from myapi.security.scopes import parse_scope
from myapi.services.personal_tokens import issue as issue_personal_token
from tests.helpers.clock import Clock
from tests.helpers.http import assert_problem, bearer

READ = parse_scope("notes:read")

Cli = Callable[..., Result]


def access_claims(tokens: dict[str, Any]) -> dict[str, Any]:
    """The claims of a pair's access token (issued by this test's own login)."""
    return pyjwt.decode(tokens["access_token"], options={"verify_signature": False})


def session_id(tokens: dict[str, Any]) -> str:
    return access_claims(tokens)["sid"]


def expire_session(sid: str) -> None:
    """Move a session's whole lifetime into the past, as if it had been idle for months."""
    past = utcnow() - timedelta(days=1)
    db.session.execute(
        update(AuthSession)
        .where(AuthSession.id == sid)
        .values(access_expires_at=past, refresh_expires_at=past, expires_at=past)
    )
    db.session.commit()


def committed(column: Any) -> set[Any]:
    """The column's values as another connection sees them: only what prune committed.

    (On PostgreSQL; in-memory SQLite shares its one connection, so there it reads the same.)
    """
    with db.engine.connect() as connection:
        return set(connection.scalars(db.select(column)))


def remaining_sessions() -> set[str]:
    return committed(AuthSession.id)


def remaining_denied_jtis() -> set[str]:
    return committed(RevokedToken.jti)


def test_prune_deletes_expired_rows_and_keeps_live_ones(
    cli: Cli, client: FlaskClient, alice: User, login: Callable[..., dict[str, Any]]
) -> None:
    live = login("alice")
    logged_out = login("alice")
    expired = login("alice")
    logout = client.post("/auth/logout", headers=bearer(logged_out["access_token"]))
    assert logout.status_code == 204
    expire_session(session_id(expired))
    now = utcnow()
    db.session.add_all(
        [
            RevokedToken(jti="expired-denylist-entry", expires_at=now - timedelta(minutes=1)),
            RevokedToken(jti="live-denylist-entry", expires_at=now + timedelta(minutes=10)),
        ]
    )
    db.session.commit()

    result = cli("tokens", "prune")

    assert result.exit_code == 0, result.output
    assert "pruned 1 expired session(s), 1 expired revoked token(s)" in result.output
    assert remaining_sessions() == {session_id(live), session_id(logged_out)}
    assert remaining_denied_jtis() == {
        "live-denylist-entry",
        access_claims(logged_out)["jti"],
    }


def test_tokens_stay_as_valid_or_as_revoked_as_they_were_after_a_prune(
    cli: Cli, client: FlaskClient, alice: User, login: Callable[..., dict[str, Any]]
) -> None:
    live = login("alice")
    logged_out = login("alice")
    client.post("/auth/logout", headers=bearer(logged_out["access_token"]))

    cli("tokens", "prune")

    assert client.get("/auth/me", headers=bearer(live["access_token"])).status_code == 200
    assert_problem(client.get("/auth/me", headers=bearer(logged_out["access_token"])), 401)
    assert_problem(client.post("/auth/refresh", headers=bearer(logged_out["refresh_token"])), 401)


def test_prune_with_nothing_expired_deletes_nothing(
    cli: Cli, alice: User, login: Callable[..., dict[str, Any]]
) -> None:
    tokens = login("alice")

    result = cli("tokens", "prune")

    assert result.exit_code == 0, result.output
    assert "pruned 0 expired session(s), 0 expired revoked token(s)" in result.output
    assert remaining_sessions() == {session_id(tokens)}


def test_prune_keeps_a_session_whose_refresh_token_is_still_valid(
    cli: Cli, alice: User, login: Callable[..., dict[str, Any]]
) -> None:
    tokens = login("alice")
    # Only the access token has expired: the refresh token can still mint new pairs.
    db.session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id(tokens))
        .values(access_expires_at=utcnow() - timedelta(minutes=5))
    )
    db.session.commit()

    result = cli("tokens", "prune")

    assert "pruned 0 expired session(s)" in result.output
    assert remaining_sessions() == {session_id(tokens)}


def test_prune_deletes_expired_and_revoked_personal_tokens_and_keeps_live_ones(
    cli: Cli, alice: User
) -> None:
    issue_personal_token(alice.id, "live", "notes:read", 30, within=READ)
    expired, _ = issue_personal_token(alice.id, "expired", "notes:read", 30, within=READ)
    revoked, _ = issue_personal_token(alice.id, "revoked", "notes:read", 30, within=READ)
    expired.expires_at = utcnow() - timedelta(minutes=1)
    revoked.revoked_at = utcnow()
    db.session.commit()

    result = cli("tokens", "prune")

    assert result.exit_code == 0, result.output
    assert "and 2 expired or revoked personal access token(s)" in result.output
    db.session.expire_all()
    assert committed(PersonalAccessToken.name) == {"live"}


def at_the_edge_of_the_leeway(app: Flask, clock: Clock) -> datetime:
    """An expiry that verifiers still accept at the clock's time, by exactly their leeway."""
    return clock.now - timedelta(seconds=app.config["JWT_LEEWAY_SECONDS"])


def test_a_denial_stays_while_verifiers_would_still_accept_its_token(
    app: Flask, cli: Cli, clock: Clock, alice: User
) -> None:
    # A verifier accepts a token until JWT_LEEWAY_SECONDS after its `exp`, so a denial
    # pruned at `exp` would let the revoked token back in for that long.
    edge = at_the_edge_of_the_leeway(app, clock)
    db.session.add(RevokedToken(jti="inside-the-leeway", holder="user:1", expires_at=edge))
    db.session.commit()

    cli("tokens", "prune")
    kept = remaining_denied_jtis()
    clock.advance(seconds=1)
    cli("tokens", "prune")

    assert kept == {"inside-the-leeway"}
    assert remaining_denied_jtis() == set()


@pytest.mark.parametrize(
    "expiring", ["refresh and access", "access (refresh long gone)", "refresh (access long gone)"]
)
def test_a_session_stays_while_verifiers_would_still_accept_its_last_token(
    app: Flask,
    cli: Cli,
    clock: Clock,
    alice: User,
    login: Callable[..., dict[str, Any]],
    expiring: str,
) -> None:
    tokens = login("alice")
    edge = at_the_edge_of_the_leeway(app, clock)
    long_gone = edge - timedelta(days=1)
    refresh_expiry = long_gone if expiring.startswith("access") else edge
    access_expiry = long_gone if expiring.startswith("refresh (") else edge
    db.session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id(tokens))
        .values(access_expires_at=access_expiry, refresh_expires_at=refresh_expiry)
    )
    db.session.commit()

    cli("tokens", "prune")
    kept = remaining_sessions()
    clock.advance(seconds=1)
    cli("tokens", "prune")

    assert kept == {session_id(tokens)}
    assert remaining_sessions() == set()


def test_a_personal_token_is_pruned_the_moment_it_stops_authenticating(
    cli: Cli, clock: Clock, alice: User
) -> None:
    # An opaque token has no leeway: it is refused from its expiry on (expires_at <= now).
    token, _ = issue_personal_token(alice.id, "ends now", "notes:read", 30, within=READ)
    token.expires_at = clock.now
    db.session.commit()

    result = cli("tokens", "prune")

    assert "and 1 expired or revoked personal access token(s)" in result.output
    assert committed(PersonalAccessToken.name) == set()
