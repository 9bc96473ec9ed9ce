"""Helpers for the resource tests: notes made over HTTP or, for volume, straight in the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from myapi.extensions import db
from myapi.models import Note, User
from tests.conftest import bearer

NOTES = "/api/v1/notes"
ADMIN_USERS = "/api/v1/admin/users"
#: The first id that cannot exist: one past the largest 32-bit signed integer.
BEYOND_INT32 = 2_147_483_648


def note_url(note_id: int) -> str:
    return f"{NOTES}/{note_id}"


def user_url(user_id: int) -> str:
    return f"{ADMIN_USERS}/{user_id}"


@pytest.fixture
def create_note(client: FlaskClient) -> Callable[..., dict[str, Any]]:
    """POST a note as the holder of `headers`; returns the created note's body."""

    def create(headers: dict[str, str], title: str = "A note", **fields: Any) -> dict[str, Any]:
        response = client.post(NOTES, json={"title": title, **fields}, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.json

    return create


@pytest.fixture
def insert_notes() -> Callable[[User, int], list[int]]:
    """Insert `count` notes for `owner` in one commit; returns their ids, oldest first."""

    def insert(owner: User, count: int) -> list[int]:
        notes = [Note(owner_id=owner.id, title=f"note {n}", body="") for n in range(count)]
        db.session.add_all(notes)
        db.session.commit()
        return [note.id for note in notes]

    return insert


@pytest.fixture
def headers_for(login: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, str]]:
    """Authorization headers from a real login, optionally narrowed to `scope`."""

    def headers(username: str, scope: str | None = None) -> dict[str, str]:
        extra = {"scope": scope} if scope is not None else {}
        return bearer(login(username, **extra)["access_token"])

    return headers


def keys_anywhere(value: Any) -> set[str]:
    """Every dictionary key in a JSON document, at any depth."""
    if isinstance(value, dict):
        return set(value).union(*(keys_anywhere(inner) for inner in value.values()))
    if isinstance(value, list):
        return set().union(*(keys_anywhere(inner) for inner in value))
    return set()
