"""GET /auth/sessions lists the caller's live sessions; DELETE /auth/sessions/<id> revokes one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import update

from myapi.extensions import db
from myapi.models import AuthSession, User
from tests.auth.observe import (
    UNAUTHENTICATED,
    assert_invalid_token,
    claims,
    live_session_ids,
    me,
)
from tests.helpers.clock import Clock
from tests.helpers.http import PASSWORD, assert_problem, bearer, refresh
from tests.helpers.logs import LogLines

SESSION_FIELDS = {"id", "created_at", "last_used_at", "user_agent", "ip", "current"}


def login_from(client: FlaskClient, username: str, user_agent: str) -> dict[str, Any]:
    response = client.post(
        "/auth/login",
        json={"username": username, "password": PASSWORD},
        headers={"User-Agent": user_agent},
    )
    assert response.status_code == 200
    return response.json


def sid(tokens: dict[str, Any]) -> str:
    return claims(tokens["access_token"])["sid"]


def list_sessions(client: FlaskClient, tokens: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get("/auth/sessions", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    return response.json


def delete_session(client: FlaskClient, tokens: dict[str, Any], session_id: str) -> Any:
    return client.delete(f"/auth/sessions/{session_id}", headers=bearer(tokens["access_token"]))


def test_sessions_lists_each_live_session_and_marks_the_current_one(
    client: FlaskClient, alice: User
) -> None:
    laptop = login_from(client, "alice", "laptop-browser")
    phone = login_from(client, "alice", "phone-app")

    sessions = list_sessions(client, phone)

    assert {s["id"] for s in sessions} == {sid(laptop), sid(phone)}
    by_id = {s["id"]: s for s in sessions}
    assert by_id[sid(phone)]["current"] is True
    assert by_id[sid(laptop)]["current"] is False
    assert by_id[sid(phone)]["user_agent"] == "phone-app"
    assert by_id[sid(laptop)]["user_agent"] == "laptop-browser"
    for session in sessions:
        assert set(session) == SESSION_FIELDS
        assert session["ip"] == "127.0.0.1"
        assert datetime.fromisoformat(session["created_at"]).tzinfo is not None
        assert "token" not in str(session) and "jti" not in str(session)


def test_sessions_lists_the_most_recently_used_first(client: FlaskClient, alice: User) -> None:
    first = login_from(client, "alice", "first")
    second = login_from(client, "alice", "second")
    first = refresh(client, first["refresh_token"]).json

    sessions = list_sessions(client, second)

    assert [s["id"] for s in sessions] == [sid(first), sid(second)]


def test_sessions_omits_revoked_sessions_and_other_users_sessions(
    client: FlaskClient, alice: User, bob: User
) -> None:
    kept = login_from(client, "alice", "kept")
    ended = login_from(client, "alice", "ended")
    login_from(client, "bob", "bobs")
    client.post("/auth/logout", headers=bearer(ended["access_token"]))

    sessions = list_sessions(client, kept)

    assert [s["id"] for s in sessions] == [sid(kept)]


def test_sessions_needs_an_access_token(client: FlaskClient) -> None:
    body = assert_problem(client.get("/auth/sessions"), 401)

    assert body["type"] == UNAUTHENTICATED


def test_deleting_another_of_my_sessions_revokes_its_tokens(
    client: FlaskClient, alice: User
) -> None:
    here = login_from(client, "alice", "here")
    lost_phone = login_from(client, "alice", "lost phone")

    response = delete_session(client, here, sid(lost_phone))

    assert response.status_code == 204
    assert response.get_data() == b""
    assert live_session_ids(alice) == {sid(here)}
    assert_invalid_token(me(client, lost_phone["access_token"]))
    assert_invalid_token(refresh(client, lost_phone["refresh_token"]))
    assert me(client, here["access_token"]).status_code == 200
    assert [s["id"] for s in list_sessions(client, here)] == [sid(here)]


def test_revoking_a_session_writes_the_session_revoked_event(
    logs: LogLines, client: FlaskClient, alice: User
) -> None:
    here = login_from(client, "alice", "here")
    lost_phone = login_from(client, "alice", "lost phone")

    delete_session(client, here, sid(lost_phone))

    (event,) = logs.events("session_revoked")
    assert event["user_id"] == alice.id
    assert event["session_id"] == sid(lost_phone)
    assert lost_phone["refresh_token"] not in logs.text()


def test_sessions_omits_sessions_whose_refresh_token_has_expired(
    client: FlaskClient, alice: User, clock: Clock
) -> None:
    stale = login_from(client, "alice", "laptop left in a drawer")
    here = login_from(client, "alice", "here")
    db.session.execute(
        update(AuthSession)
        .where(AuthSession.id == sid(stale))
        .values(refresh_expires_at=clock.now)  # expires this very moment
    )
    db.session.commit()

    listed = [s["id"] for s in list_sessions(client, here)]

    assert listed == [sid(here)]


def test_deleting_the_current_session_logs_it_out(client: FlaskClient, alice: User) -> None:
    here = login_from(client, "alice", "here")

    response = delete_session(client, here, sid(here))

    assert response.status_code == 204
    assert live_session_ids(alice) == set()
    assert_invalid_token(me(client, here["access_token"]))


def test_deleting_another_users_session_is_not_found_and_changes_nothing(
    client: FlaskClient, alice: User, bob: User
) -> None:
    alices = login_from(client, "alice", "alice")
    bobs = login_from(client, "bob", "bob")

    response = delete_session(client, alices, sid(bobs))

    assert_problem(response, 404)
    assert live_session_ids(bob) == {sid(bobs)}
    assert me(client, bobs["access_token"]).status_code == 200
    assert refresh(client, bobs["refresh_token"]).status_code == 200


def test_deleting_an_unknown_or_already_revoked_session_is_not_found(
    client: FlaskClient, alice: User
) -> None:
    here = login_from(client, "alice", "here")
    gone = login_from(client, "alice", "gone")
    assert delete_session(client, here, sid(gone)).status_code == 204

    assert_problem(delete_session(client, here, sid(gone)), 404)
    assert_problem(delete_session(client, here, "0" * 32), 404)
    assert_problem(delete_session(client, here, "not-a-session-id"), 404)
    assert live_session_ids(alice) == {sid(here)}


def test_deleting_a_session_needs_an_access_token(client: FlaskClient, alice: User) -> None:
    here = login_from(client, "alice", "here")

    response = client.delete(f"/auth/sessions/{sid(here)}")

    assert assert_problem(response, 401)["type"] == UNAUTHENTICATED
    assert live_session_ids(alice) == {sid(here)}


def test_a_long_user_agent_and_address_are_kept_to_the_widths_the_list_shows(
    client: FlaskClient, alice: User
) -> None:
    user_agent, address = "Agent/" + "x" * 300, "2001:db8::" + "f" * 60

    here = client.post(
        "/auth/login",
        json={"username": "alice", "password": PASSWORD},
        headers={"User-Agent": user_agent},
        environ_base={"REMOTE_ADDR": address},
    ).json

    (listed,) = list_sessions(client, here)
    assert listed["user_agent"] == user_agent[:255]
    assert listed["ip"] == address[:45]
