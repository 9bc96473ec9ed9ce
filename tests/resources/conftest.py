"""Helpers for the resource tests: notes made over HTTP or, for volume, straight in the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from myapi.extensions import db
from myapi.models import Note, User
from tests.helpers.http import bearer
from tests.resources.helpers import NOTES


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
