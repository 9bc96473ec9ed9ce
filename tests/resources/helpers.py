"""Helpers of the resource tests: paths, ids beyond range, and a search through nested answers."""

from __future__ import annotations

from typing import Any

NOTES = "/api/v1/notes"

ADMIN_USERS = "/api/v1/admin/users"

#: The first id that cannot exist: one past the largest 32-bit signed integer.
BEYOND_INT32 = 2_147_483_648


def note_url(note_id: int) -> str:
    return f"{NOTES}/{note_id}"


def user_url(user_id: int) -> str:
    return f"{ADMIN_USERS}/{user_id}"


def keys_anywhere(value: Any) -> set[str]:
    """Every dictionary key in a JSON document, at any depth."""
    if isinstance(value, dict):
        return set(value).union(*(keys_anywhere(inner) for inner in value.values()))
    if isinstance(value, list):
        return set().union(*(keys_anywhere(inner) for inner in value))
    return set()
