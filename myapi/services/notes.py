"""Notes: each user reads and changes only their own; an OAuth client reads everyone's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from myapi.extensions import db
from myapi.models import Note
from myapi.services.transactions import unit_of_work


def owned_notes(owner_id: int) -> Select[tuple[Note]]:
    """A user's own notes: all a user may read, and all that anyone may change."""
    return select(Note).where(Note.owner_id == owner_id)


def readable_notes(owner_id: int | None) -> Select[tuple[Note]]:
    """The notes a caller may read: a user's own (`owner_id`), or every user's (None: a client)."""
    return select(Note) if owner_id is None else owned_notes(owner_id)


def find_note(notes: Select[tuple[Note]], note_id: int) -> Note | None:
    """One note of `notes`; another user's note is indistinguishable from none."""
    return db.session.scalar(notes.where(Note.id == note_id))


def create_note(owner_id: int, title: str, body: str = "") -> Note:
    note = Note(owner_id=owner_id, title=title, body=body)
    with unit_of_work():
        db.session.add(note)
    return note


def update_note(note: Note, changes: dict[str, Any]) -> Note:
    with unit_of_work():
        for field, value in changes.items():
            setattr(note, field, value)
    return note


def delete_note(note: Note) -> None:
    with unit_of_work():
        db.session.delete(note)
