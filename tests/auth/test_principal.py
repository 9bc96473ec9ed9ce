"""The principal is decided once per request: nothing downstream can change who the caller is."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from werkzeug.exceptions import NotFound

from myapi.auth.routes import caller_account
from myapi.extensions import db
from myapi.models import User
from myapi.security.authentication import authenticate
from myapi.security.principal import Account, Kind, Principal
from tests.helpers.http import bearer


def a_principal() -> Principal:
    account = Account(1, "alice", "alice@example.com", "user", True, datetime.now(UTC), False)
    return Principal(
        kind=Kind.SESSION,
        token_type="access",
        user_id=1,
        client_id=None,
        scopes=frozenset({"notes:read"}),
        fresh=False,
        session_id="s",
        token_id="t",
        issued_at=0,
        expires_at=60,
        account=account,
    )


@pytest.mark.parametrize(
    ("field", "value"), [("scopes", frozenset({"users:write"})), ("user_id", 2), ("fresh", True)]
)
def test_a_principals_fields_cannot_be_reassigned(field: str, value: object) -> None:
    principal = a_principal()

    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(principal, field, value)


def test_the_account_a_principal_carries_cannot_be_changed() -> None:
    account = a_principal().account
    assert account is not None

    with pytest.raises(dataclasses.FrozenInstanceError):
        account.role = "admin"  # type: ignore[misc]


def test_an_account_deleted_after_its_token_was_checked_is_a_404(
    app: Flask, alice: User, alice_tokens: dict[str, Any]
) -> None:
    with app.test_request_context(headers=bearer(alice_tokens["access_token"])):
        authenticate(refresh=False)
        db.session.delete(alice)
        db.session.commit()

        with pytest.raises(NotFound) as refusal:
            caller_account()

    assert refusal.value.code == 404
