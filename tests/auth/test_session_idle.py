"""SESSION_IDLE_DAYS: a session nobody refreshes for that long ends by itself, beside the
absolute SESSION_MAX_DAYS; each refresh moves its "last active" time and so keeps it alive."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from myapi.clock import utcnow
from myapi.extensions import db
from myapi.models import AuthSession, User
from tests.auth.observe import assert_invalid_token, claims, session_row
from tests.helpers.clock import Clock
from tests.helpers.http import PASSWORD, bearer, refresh
from tests.helpers.logs import LogLines

DAY = timedelta(days=1)


def log_in(client: FlaskClient, user_agent: str = "test-browser") -> dict[str, Any]:
    response = client.post(
        "/auth/login",
        json={"username": "alice", "password": PASSWORD},
        headers={"User-Agent": user_agent},
    )
    assert response.status_code == 200, response.json
    return response.json


def sid_of(tokens: dict[str, Any]) -> str:
    return claims(tokens["access_token"])["sid"]


def backdate(sid: str, *, signed_in: timedelta, last_active: timedelta) -> None:
    """Move a session's login and last refresh into the past (tokens issued in the test's
    own present are the only ones PyJWT, which reads the real time, accepts)."""
    now = utcnow()
    db.session.execute(
        update(AuthSession)
        .where(AuthSession.id == sid)
        .values(created_at=now - signed_in, last_used_at=now - last_active)
    )
    db.session.commit()


def listed(client: FlaskClient, tokens: dict[str, Any]) -> dict[str, dict[str, Any]]:
    response = client.get("/auth/sessions", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    return {session["id"]: session for session in response.json}


def test_the_idle_lifetime_defaults_to_fourteen_days(app: Flask) -> None:
    assert app.config["SESSION_IDLE_DAYS"] == 14
    assert app.config["REFRESH_TOKEN_DAYS"] == 30


def test_a_refresh_token_never_outlives_the_idle_lifetime(
    app: Flask, client: FlaskClient, alice: User
) -> None:
    app.config["SESSION_IDLE_DAYS"] = 3

    token = claims(log_in(client)["refresh_token"])

    assert token["exp"] - token["iat"] == 3 * 86400


def test_idleness_counts_from_the_last_refresh_not_from_the_login(
    app: Flask, client: FlaskClient, alice: User, clock: Clock
) -> None:
    tokens = log_in(client)
    sid = claims(tokens["access_token"])["sid"]
    backdate(sid, signed_in=39 * DAY, last_active=13 * DAY)

    response = refresh(client, tokens["refresh_token"])

    assert response.status_code == 200, response.json
    session = session_row(sid)
    assert session is not None
    assert session.last_used_at == clock.now
    assert clock.now - session.created_at == 39 * DAY


@pytest.mark.parametrize("beyond", [0, 1])
def test_a_session_idle_for_the_setting_or_longer_cannot_refresh(
    app: Flask, client: FlaskClient, alice: User, clock: Clock, logs: LogLines, beyond: int
) -> None:
    # Issued while the setting was longer: its refresh token outlives the new idle limit,
    # so only the check at refresh ends it.
    app.config["SESSION_IDLE_DAYS"] = 14
    tokens = log_in(client)
    app.config["SESSION_IDLE_DAYS"] = 2

    clock.advance(days=2, seconds=beyond)
    response = refresh(client, tokens["refresh_token"])

    assert_invalid_token(response)
    assert [event["reason"] for event in logs.events("token_rejected")] == ["idle"]


def test_a_refresh_just_inside_the_idle_lifetime_succeeds(
    app: Flask, client: FlaskClient, alice: User, clock: Clock
) -> None:
    app.config["SESSION_IDLE_DAYS"] = 2
    tokens = log_in(client)

    clock.advance(days=2, seconds=-1)

    assert refresh(client, tokens["refresh_token"]).status_code == 200


def test_the_grace_window_still_returns_the_same_pair_after_an_idle_check(
    app: Flask, client: FlaskClient, alice: User, clock: Clock
) -> None:
    tokens = log_in(client)
    clock.advance(days=13)
    first = refresh(client, tokens["refresh_token"])
    retry = refresh(client, tokens["refresh_token"])

    assert first.status_code == retry.status_code == 200
    assert retry.json["refresh_token"] == first.json["refresh_token"]


def test_the_list_shows_signed_in_and_last_active_and_hides_idle_sessions(
    app: Flask, client: FlaskClient, alice: User, clock: Clock
) -> None:
    app.config["SESSION_IDLE_DAYS"] = 5
    left_open = sid_of(log_in(client, "closed tab"))
    here = log_in(client, "this tab")
    backdate(left_open, signed_in=4 * DAY, last_active=4 * DAY)
    backdate(sid_of(here), signed_in=3 * DAY, last_active=2 * DAY)

    sessions = listed(client, here)

    assert set(sessions) == {left_open, sid_of(here)}
    current = sessions[sid_of(here)]
    assert current["current"] is True
    assert current["created_at"] == (clock.now - 3 * DAY).isoformat()
    assert current["last_used_at"] == (clock.now - 2 * DAY).isoformat()
    assert sessions[left_open]["current"] is False

    backdate(left_open, signed_in=5 * DAY, last_active=5 * DAY)  # now idle for 5 days

    assert set(listed(client, here)) == {sid_of(here)}


def test_prune_deletes_idle_sessions_and_keeps_active_ones(
    app: Flask,
    client: FlaskClient,
    alice: User,
    clock: Clock,
) -> None:
    # Both issued under a longer idle lifetime, so their refresh tokens outlive the new one:
    # only the idle rule can tell which session to delete.
    idle = log_in(client, "closed tab")
    active = log_in(client, "open tab")
    app.config["SESSION_IDLE_DAYS"] = 5
    clock.advance(days=4)
    assert refresh(client, active["refresh_token"]).status_code == 200
    clock.advance(days=1)  # the closed tab's session: 5 days idle; the open one's: 1 day

    result = app.test_cli_runner().invoke(args=["tokens", "prune"])

    assert result.exit_code == 0, result.output
    assert "pruned 1 expired session(s)" in result.output
    assert session_row(sid_of(idle)) is None
    assert session_row(sid_of(active)) is not None
    assert_invalid_token(refresh(client, idle["refresh_token"]))


def test_a_rotated_token_presented_to_an_idle_session_is_still_reuse(
    app: Flask, client: FlaskClient, alice: User, logs: LogLines
) -> None:
    first = log_in(client)
    assert refresh(client, first["refresh_token"]).status_code == 200
    sid = sid_of(first)
    backdate(sid, signed_in=20 * DAY, last_active=15 * DAY)
    db.session.execute(
        update(AuthSession).where(AuthSession.id == sid).values(rotated_at=utcnow() - 15 * DAY)
    )
    db.session.commit()

    assert_invalid_token(refresh(client, first["refresh_token"]))

    assert [event["session_id"] for event in logs.events("refresh_reuse_detected")] == [sid]
    session = session_row(sid)
    assert session is not None and session.revoked_at is not None
