"""A service's steps commit together or not at all: a failure half-way leaves nothing done.

Each test makes one step in the middle of a multi-step operation fail and checks what the
database holds afterwards. Runs on SQLite and on PostgreSQL + Redis (where the mirror may
have been told of a revocation that then rolled back: it can only over-revoke).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from myapi.extensions import db
from myapi.models import AuthSession, PersonalAccessToken, User
from myapi.security.passwords import verify_password
from myapi.security.scopes import parse_scope
from myapi.services import accounts, personal_tokens, transactions
from tests.helpers.http import PASSWORD

NEW_PASSWORD = "an entirely new passphrase 9"


class Boom(RuntimeError):
    """The failure injected into a step."""


def fail(*_: Any, **__: Any) -> Any:
    raise Boom


def stored(user_id: int) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def live_sessions(user_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    )


def live_personal_tokens(user_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(
            PersonalAccessToken.user_id == user_id, PersonalAccessToken.revoked_at.is_(None)
        )
    )


@pytest.fixture
def alice_with_credentials(alice: User, login: Any) -> User:
    """Alice with two sessions and a personal access token."""
    login("alice")
    login("alice")
    personal_tokens.issue(alice.id, "script", "notes:read", 30, within=parse_scope("notes:read"))
    return alice


def test_a_registration_whose_audit_event_fails_creates_no_account(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transactions, "audit", fail)

    with pytest.raises(Boom):
        accounts.register("carol", "carol@example.com", PASSWORD)

    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_a_password_change_that_fails_while_revoking_changes_nothing(
    alice_with_credentials: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = alice_with_credentials
    monkeypatch.setattr(accounts, "revoke_personal_tokens_where", fail)

    with pytest.raises(Boom):
        accounts.set_password(stored(alice.id), NEW_PASSWORD)

    assert verify_password(stored(alice.id).password_hash, PASSWORD)
    assert live_sessions(alice.id) == 2
    assert live_personal_tokens(alice.id) == 1


def test_disabling_an_account_that_fails_while_revoking_leaves_it_enabled(
    alice_with_credentials: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = alice_with_credentials
    monkeypatch.setattr(accounts, "revoke_personal_tokens_where", fail)

    with pytest.raises(Boom):
        accounts.set_active(stored(alice.id), False)

    assert stored(alice.id).is_active is True
    assert live_sessions(alice.id) == 2
    assert live_personal_tokens(alice.id) == 1


def test_logout_everywhere_that_fails_half_way_revokes_nothing(
    alice_with_credentials: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = alice_with_credentials
    monkeypatch.setattr(accounts, "revoke_personal_tokens_where", fail)

    with pytest.raises(Boom):
        accounts.revoke_all_sessions(stored(alice.id))

    assert live_sessions(alice.id) == 2
    assert live_personal_tokens(alice.id) == 1


def test_a_commit_that_fails_says_which_events_did_not_happen(
    alice: User, monkeypatch: pytest.MonkeyPatch, logs: Any
) -> None:
    monkeypatch.setattr(db.session, "commit", fail)

    with pytest.raises(Boom):
        accounts.set_role(stored(alice.id), "admin")

    [failed] = logs.events("transaction_failed")
    assert failed["events"] == ["role_changed"]
    assert stored(alice.id).role == "user"
