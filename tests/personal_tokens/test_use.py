"""A PAT as `Authorization: Bearer`: accepted like an access token, judged on every request."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from myapi.extensions import db
from myapi.models import User
from myapi.security.personal_tokens import PAT_PREFIX
from myapi.services import personal_tokens as personal_tokens_service
from myapi.services.accounts import set_active, set_role
from tests.helpers.clock import Clock
from tests.helpers.http import assert_problem, bearer, refresh
from tests.helpers.logs import LogLines
from tests.personal_tokens.helpers import INSUFFICIENT_SCOPE, assert_invalid_token, token_row


def test_a_token_authenticates_its_owner(client: FlaskClient, alice: User, alice_pat: str) -> None:
    response = client.get("/auth/me", headers=bearer(alice_pat))

    assert response.status_code == 200
    assert response.json["username"] == "alice"


def test_a_token_reads_and_writes_notes_within_its_scope(
    client: FlaskClient, alice_pat: str
) -> None:
    created = client.post("/api/v1/notes", headers=bearer(alice_pat), json={"title": "from cron"})
    listed = client.get("/api/v1/notes", headers=bearer(alice_pat))

    assert created.status_code == 201
    assert [note["title"] for note in listed.json["items"]] == ["from cron"]


def test_a_read_only_token_cannot_write(
    client: FlaskClient, alice_headers: dict[str, str], make_pat: Callable[..., dict[str, Any]]
) -> None:
    token = make_pat(alice_headers, scope="notes:read")["token"]

    response = client.post("/api/v1/notes", headers=bearer(token), json={"title": "no"})

    assert assert_problem(response, 403)["type"] == INSUFFICIENT_SCOPE


def test_token_info_names_the_token_and_says_it_is_not_fresh(
    client: FlaskClient, alice: User, alice_headers: dict[str, str], make_pat: Callable[..., Any]
) -> None:
    created = make_pat(alice_headers, scope="notes:read")

    info = client.get("/auth/token-info", headers=bearer(created["token"])).json

    assert info["sub"] == str(alice.id)
    assert info["kind"] == "personal"
    assert info["sid"] is None
    assert info["scope"] == "notes:read"
    assert info["fresh"] is False


def test_the_listing_shows_when_a_token_was_last_used(
    client: FlaskClient, alice_headers: dict[str, str], make_pat: Callable[..., Any]
) -> None:
    created = make_pat(alice_headers)
    before = client.get("/auth/tokens", headers=alice_headers).json

    client.get("/auth/me", headers=bearer(created["token"]))
    after = client.get("/auth/tokens", headers=alice_headers).json

    assert before[0]["last_used_at"] is None
    assert after[0]["id"] == created["id"]
    assert after[0]["last_used_at"] is not None
    assert set(after[0]) == {"id", "name", "scope", "created_at", "last_used_at", "expires_at"}


def test_a_request_with_a_token_costs_one_query(
    client: FlaskClient, alice_pat: str, statements: list[str]
) -> None:
    client.get("/auth/me", headers=bearer(alice_pat))  # the first use is recorded
    statements.clear()

    for _ in range(3):
        assert client.get("/auth/me", headers=bearer(alice_pat)).status_code == 200

    assert statements == ["SELECT"] * 3


def test_the_last_use_is_written_at_most_once_a_minute(
    client: FlaskClient, alice_pat: str, clock: Clock, statements: list[str]
) -> None:
    for _ in range(3):
        assert client.get("/auth/me", headers=bearer(alice_pat)).status_code == 200
    within_the_minute = statements.count("UPDATE")
    clock.advance(minutes=1)  # exactly: the next use is written
    client.get("/auth/me", headers=bearer(alice_pat))

    assert within_the_minute == 1
    assert statements.count("UPDATE") == 2


def test_a_token_cannot_refresh(client: FlaskClient, alice_pat: str) -> None:
    assert_invalid_token(refresh(client, alice_pat))


@pytest.mark.parametrize(
    "token",
    [
        PAT_PREFIX + "A" * 43,
        PAT_PREFIX,
        PAT_PREFIX + "short",
        PAT_PREFIX + "!" * 43,
        PAT_PREFIX + "A" * 44,
        "myapi_pat" + "A" * 44,
    ],
    ids=["unknown", "prefix-only", "short", "bad-characters", "long", "no-underscore"],
)
def test_unknown_or_garbled_tokens_are_invalid(
    client: FlaskClient, alice_pat: str, token: str
) -> None:
    assert_invalid_token(client.get("/auth/me", headers=bearer(token)))


def test_a_token_with_one_character_changed_is_invalid(client: FlaskClient, alice_pat: str) -> None:
    last = alice_pat[-1]
    garbled = alice_pat[:-1] + ("B" if last != "B" else "C")

    assert_invalid_token(client.get("/auth/me", headers=bearer(garbled)))


def test_a_demoted_admin_s_token_loses_admin_scopes_at_once(
    client: FlaskClient, admin: User, admin_headers: dict[str, str], make_pat: Callable[..., Any]
) -> None:
    token = make_pat(admin_headers, scope="notes:read users:read")["token"]
    assert client.get("/api/v1/admin/users", headers=bearer(token)).status_code == 200

    set_role(admin, "user")

    assert assert_problem(client.get("/api/v1/admin/users", headers=bearer(token)), 403)
    assert client.get("/api/v1/notes", headers=bearer(token)).status_code == 200


def test_a_disabled_owner_s_token_is_refused_at_once(
    client: FlaskClient, alice: User, alice_pat: str, logs: LogLines
) -> None:
    set_active(alice, False)

    assert_invalid_token(client.get("/auth/me", headers=bearer(alice_pat)))
    assert logs.events("personal_token_refused")[0]["reason"] == "revoked"


def test_a_disabled_owner_s_token_stays_dead_when_enabled_again(
    client: FlaskClient, alice: User, alice_pat: str
) -> None:
    set_active(alice, False)
    set_active(alice, True)

    assert_invalid_token(client.get("/auth/me", headers=bearer(alice_pat)))


def test_a_token_works_until_the_second_it_expires(
    client: FlaskClient, alice_headers: dict[str, str], make_pat: Callable[..., Any], clock: Clock
) -> None:
    created = make_pat(alice_headers, expires_in_days=1)
    expires_at = datetime.fromisoformat(created["expires_at"])
    clock.now = expires_at - timedelta(seconds=1)
    assert client.get("/auth/me", headers=bearer(created["token"])).status_code == 200

    clock.now = expires_at

    assert_invalid_token(client.get("/auth/me", headers=bearer(created["token"])))


def test_a_tokens_times_are_whole_seconds_as_token_info_gives_them(
    client: FlaskClient, alice_headers: dict[str, str], make_pat: Callable[..., Any]
) -> None:
    created = make_pat(alice_headers)

    info = client.get("/auth/token-info", headers=bearer(created["token"])).json

    created_at = datetime.fromisoformat(created["created_at"])
    expires_at = datetime.fromisoformat(created["expires_at"])
    assert (created_at.microsecond, expires_at.microsecond) == (0, 0)
    assert (info["iat"], info["exp"]) == (created_at.timestamp(), expires_at.timestamp())


def test_a_token_sees_its_owner_as_the_owners_login_does(
    client: FlaskClient, alice_headers: dict[str, str], alice_pat: str
) -> None:
    by_token = client.get("/auth/me", headers=bearer(alice_pat)).json
    by_login = client.get("/auth/me", headers=alice_headers).json

    assert by_token == by_login


def test_a_use_that_cannot_be_recorded_still_gets_its_answer(
    client: FlaskClient, alice_pat: str, monkeypatch: pytest.MonkeyPatch, logs: LogLines
) -> None:
    @contextmanager
    def database_gone() -> Iterator[None]:
        raise OperationalError("UPDATE personal_access_tokens", {}, Exception("gone"))
        yield

    monkeypatch.setattr(personal_tokens_service, "unit_of_work", database_gone)

    response = client.get("/auth/me", headers=bearer(alice_pat))

    assert response.status_code == 200
    assert "database unavailable: OperationalError" in logs.text()


def test_an_expired_token_leaves_the_listing(
    client: FlaskClient, alice_headers: dict[str, str], make_pat: Callable[..., Any], clock: Clock
) -> None:
    make_pat(alice_headers, expires_in_days=1)
    clock.advance(days=1)

    assert client.get("/auth/tokens", headers=alice_headers).json == []


def test_a_refused_use_is_audited_without_the_token(
    client: FlaskClient,
    alice_headers: dict[str, str],
    make_pat: Callable[..., Any],
    clock: Clock,
    logs: LogLines,
) -> None:
    created = make_pat(alice_headers, expires_in_days=1)
    clock.advance(days=2)

    client.get("/auth/me", headers=bearer(created["token"]))

    [refused] = logs.events("personal_token_refused")
    assert refused["reason"] == "expired"
    assert refused["token_id"] == created["id"]
    assert created["token"][len(PAT_PREFIX) :] not in logs.text()


def test_the_stored_row_records_the_use(
    client: FlaskClient, alice_headers: dict[str, str], make_pat: Callable[..., Any], clock: Clock
) -> None:
    created = make_pat(alice_headers)

    client.get("/auth/me", headers=bearer(created["token"]))

    assert token_row(created["id"]).last_used_at == clock.now


def test_an_inactive_owner_s_unrevoked_token_is_refused(
    client: FlaskClient, alice: User, alice_pat: str, logs: LogLines
) -> None:
    alice.is_active = False  # as if disabled by a path that revokes nothing
    db.session.commit()

    assert_invalid_token(client.get("/auth/me", headers=bearer(alice_pat)))
    assert logs.events("personal_token_refused")[0]["reason"] == "owner_disabled"
