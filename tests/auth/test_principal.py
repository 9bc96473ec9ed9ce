"""The principal is decided once per request: nothing downstream can change who the caller is."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from myapi.security.principal import Account, Kind, Principal


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
