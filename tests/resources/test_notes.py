"""Notes at /api/v1/notes: each user reads and writes only their own, within their scopes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete

from myapi.extensions import db
from myapi.models import Note, User
from myapi.services import notes
from tests.helpers.http import assert_problem
from tests.resources.helpers import BEYOND_INT32, NOTES, note_url

NOTE_FIELDS = {"id", "title", "body", "created_at", "updated_at"}


def stored_note(note_id: int) -> Note | None:
    """The row as the database has it now, not as the session remembers it."""
    db.session.expire_all()
    return db.session.get(Note, note_id)


# --- create -----------------------------------------------------------------


def test_creating_a_note_returns_201_with_the_stored_note_owned_by_the_caller(
    client: FlaskClient, alice: User, alice_headers: dict[str, str]
) -> None:
    response = client.post(
        NOTES, json={"title": "Groceries", "body": "milk, eggs"}, headers=alice_headers
    )

    assert response.status_code == 201
    body = response.json
    assert set(body) == NOTE_FIELDS
    assert body["title"] == "Groceries"
    assert body["body"] == "milk, eggs"
    row = stored_note(body["id"])
    assert row is not None
    assert (row.owner_id, row.title, row.body) == (alice.id, "Groceries", "milk, eggs")


def test_a_created_note_can_be_read_back(
    client: FlaskClient, alice_headers: dict[str, str], create_note: Callable[..., Any]
) -> None:
    created = create_note(alice_headers, title="Read me", body="text")

    response = client.get(note_url(created["id"]), headers=alice_headers)

    assert response.status_code == 200
    assert response.json == created


def test_a_note_without_body_gets_an_empty_body(
    client: FlaskClient, alice_headers: dict[str, str]
) -> None:
    response = client.post(NOTES, json={"title": "Title only"}, headers=alice_headers)

    assert response.status_code == 201
    assert response.json["body"] == ""


@pytest.mark.parametrize(
    ("title", "body"),
    [("x", ""), ("t" * 200, ""), ("Long body", "b" * 10_000)],
    ids=["one-char-title", "200-char-title", "10000-char-body"],
)
def test_titles_and_bodies_at_their_limits_are_accepted(
    client: FlaskClient, alice_headers: dict[str, str], title: str, body: str
) -> None:
    response = client.post(NOTES, json={"title": title, "body": body}, headers=alice_headers)

    assert response.status_code == 201
    assert (response.json["title"], response.json["body"]) == (title, body)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"body": "no title"}, "title"),
        ({"title": ""}, "title"),
        ({"title": "t" * 201}, "title"),
        ({"title": None}, "title"),
        ({"title": 42}, "title"),
        ({"title": "ok", "body": "b" * 10_001}, "body"),
        ({"title": "ok", "owner_id": 1}, "owner_id"),
        ({"title": "ok", "id": 7}, "id"),
        ({"title": "ok", "created_at": "2020-01-01T00:00:00+00:00"}, "created_at"),
    ],
    ids=[
        "missing-title",
        "empty-title",
        "201-char-title",
        "null-title",
        "numeric-title",
        "10001-char-body",
        "owner_id",
        "id",
        "created_at",
    ],
)
def test_an_invalid_note_is_refused_with_422_naming_the_field_and_nothing_is_stored(
    client: FlaskClient,
    alice_headers: dict[str, str],
    payload: dict[str, Any],
    field: str,
) -> None:
    response = client.post(NOTES, json=payload, headers=alice_headers)

    problem = assert_problem(response, 422)
    assert field in problem["errors"]
    assert db.session.query(Note).count() == 0


def test_a_note_cannot_be_created_for_another_user_by_naming_its_owner(
    client: FlaskClient, alice_headers: dict[str, str], bob: User
) -> None:
    response = client.post(
        NOTES, json={"title": "Planted", "owner_id": bob.id}, headers=alice_headers
    )

    assert_problem(response, 422)
    assert db.session.query(Note).filter_by(owner_id=bob.id).count() == 0


# --- list -------------------------------------------------------------------


def test_listing_with_no_notes_gives_an_empty_first_page(
    client: FlaskClient, alice_headers: dict[str, str]
) -> None:
    response = client.get(NOTES, headers=alice_headers)

    assert response.status_code == 200
    assert response.json == {"items": [], "page": 1, "per_page": 20, "total": 0, "pages": 0}


def test_the_list_holds_only_the_callers_notes_newest_first(
    client: FlaskClient,
    alice_headers: dict[str, str],
    bob_headers: dict[str, str],
    create_note: Callable[..., Any],
) -> None:
    first = create_note(alice_headers, title="first")
    create_note(bob_headers, title="bob's")
    second = create_note(alice_headers, title="second")

    response = client.get(NOTES, headers=alice_headers)

    assert response.status_code == 200
    assert [item["id"] for item in response.json["items"]] == [second["id"], first["id"]]
    assert response.json["total"] == 2
    assert all(set(item) == NOTE_FIELDS for item in response.json["items"])


def test_the_list_defaults_to_pages_of_20(
    client: FlaskClient,
    alice: User,
    alice_headers: dict[str, str],
    insert_notes: Callable[[User, int], list[int]],
) -> None:
    ids = insert_notes(alice, 25)
    newest_first = ids[::-1]

    first = client.get(NOTES, headers=alice_headers).json
    second = client.get(f"{NOTES}?page=2", headers=alice_headers).json

    assert {key: first[key] for key in ("page", "per_page", "total", "pages")} == {
        "page": 1,
        "per_page": 20,
        "total": 25,
        "pages": 2,
    }
    assert [item["id"] for item in first["items"]] == newest_first[:20]
    assert second["page"] == 2
    assert [item["id"] for item in second["items"]] == newest_first[20:]


def test_per_page_chooses_the_page_size(
    client: FlaskClient,
    alice: User,
    alice_headers: dict[str, str],
    insert_notes: Callable[[User, int], list[int]],
) -> None:
    ids = insert_notes(alice, 5)

    body = client.get(f"{NOTES}?page=2&per_page=2", headers=alice_headers).json

    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (2, 2, 5, 3)
    assert [item["id"] for item in body["items"]] == ids[::-1][2:4]


def test_per_page_above_100_is_capped_to_100(
    client: FlaskClient,
    alice: User,
    alice_headers: dict[str, str],
    insert_notes: Callable[[User, int], list[int]],
) -> None:
    insert_notes(alice, 101)

    response = client.get(f"{NOTES}?per_page=500", headers=alice_headers)

    assert response.status_code == 200
    assert response.json["per_page"] == 100
    assert len(response.json["items"]) == 100
    assert (response.json["total"], response.json["pages"]) == (101, 2)


def test_a_page_past_the_end_is_empty_but_reports_the_totals(
    client: FlaskClient,
    alice: User,
    alice_headers: dict[str, str],
    insert_notes: Callable[[User, int], list[int]],
) -> None:
    insert_notes(alice, 3)

    body = client.get(f"{NOTES}?page=5", headers=alice_headers).json

    assert body == {"items": [], "page": 5, "per_page": 20, "total": 3, "pages": 1}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("per_page=0", "per_page"),
        ("per_page=-5", "per_page"),
        ("page=abc", "page"),
        ("per_page=ten", "per_page"),
    ],
)
def test_a_page_or_page_size_below_one_or_not_a_number_is_refused_with_422(
    client: FlaskClient, alice_headers: dict[str, str], query: str, field: str
) -> None:
    response = client.get(f"{NOTES}?{query}", headers=alice_headers)

    problem = assert_problem(response, 422)
    assert field in problem["errors"]


# --- get --------------------------------------------------------------------


def test_another_users_note_is_not_found(
    client: FlaskClient,
    alice_headers: dict[str, str],
    bob_headers: dict[str, str],
    create_note: Callable[..., Any],
) -> None:
    bobs = create_note(bob_headers, title="private")
    missing = client.get(note_url(bobs["id"] + 1000), headers=alice_headers)

    response = client.get(note_url(bobs["id"]), headers=alice_headers)

    assert_problem(response, 404)
    assert response.json == missing.json, "must be indistinguishable from a missing note"
    assert "private" not in response.get_data(as_text=True)


@pytest.mark.parametrize("note_id", [0, BEYOND_INT32, 10**20])
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_ids_outside_the_32_bit_range_are_not_found(
    client: FlaskClient, alice_headers: dict[str, str], method: str, note_id: int
) -> None:
    response = client.open(
        note_url(note_id), method=method.upper(), json={"title": "x"}, headers=alice_headers
    )

    assert_problem(response, 404)


# --- patch ------------------------------------------------------------------


def test_patching_the_title_keeps_the_body(
    client: FlaskClient, alice_headers: dict[str, str], create_note: Callable[..., Any]
) -> None:
    note = create_note(alice_headers, title="old", body="kept")

    response = client.patch(note_url(note["id"]), json={"title": "new"}, headers=alice_headers)

    assert response.status_code == 200
    assert (response.json["id"], response.json["title"], response.json["body"]) == (
        note["id"],
        "new",
        "kept",
    )
    row = stored_note(note["id"])
    assert (row.title, row.body) == ("new", "kept")


def test_patching_the_body_keeps_the_title(
    client: FlaskClient, alice_headers: dict[str, str], create_note: Callable[..., Any]
) -> None:
    note = create_note(alice_headers, title="kept", body="old")

    response = client.patch(note_url(note["id"]), json={"body": ""}, headers=alice_headers)

    assert response.status_code == 200
    row = stored_note(note["id"])
    assert (row.title, row.body) == ("kept", "")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "_schema"),
        ({"title": ""}, "title"),
        ({"title": "t" * 201}, "title"),
        ({"body": "b" * 10_001}, "body"),
        ({"owner_id": 2}, "owner_id"),
        ({"id": 99}, "id"),
    ],
    ids=["empty", "empty-title", "long-title", "long-body", "owner_id", "id"],
)
def test_an_invalid_patch_is_refused_with_422_and_the_note_is_unchanged(
    client: FlaskClient,
    alice_headers: dict[str, str],
    create_note: Callable[..., Any],
    payload: dict[str, Any],
    field: str,
) -> None:
    note = create_note(alice_headers, title="same", body="same body")

    response = client.patch(note_url(note["id"]), json=payload, headers=alice_headers)

    problem = assert_problem(response, 422)
    assert field in problem["errors"]
    assert client.get(note_url(note["id"]), headers=alice_headers).json == note


def test_patching_another_users_note_is_not_found_and_leaves_it_unchanged(
    client: FlaskClient,
    bob: User,
    alice_headers: dict[str, str],
    bob_headers: dict[str, str],
    create_note: Callable[..., Any],
) -> None:
    bobs = create_note(bob_headers, title="bob's", body="untouched")

    response = client.patch(
        note_url(bobs["id"]), json={"title": "hijacked", "body": "x"}, headers=alice_headers
    )

    assert_problem(response, 404)
    row = stored_note(bobs["id"])
    assert (row.owner_id, row.title, row.body) == (bob.id, "bob's", "untouched")


def test_a_note_deleted_by_another_request_during_a_patch_is_not_found(
    client: FlaskClient,
    alice_headers: dict[str, str],
    create_note: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    note = create_note(alice_headers)
    update_note = notes.update_note

    def update_then_lose_the_row(row: Note, changes: dict[str, Any]) -> Note:
        updated = update_note(row, changes)
        # Another request's delete, which this request's session knows nothing of.
        forget = {"synchronize_session": False}
        db.session.execute(delete(Note).where(Note.id == row.id), execution_options=forget)
        db.session.commit()
        return updated

    monkeypatch.setattr(notes, "update_note", update_then_lose_the_row)

    response = client.patch(note_url(note["id"]), json={"title": "new"}, headers=alice_headers)

    assert_problem(response, 404)


# --- delete -----------------------------------------------------------------


def test_deleting_a_note_answers_204_and_it_is_gone(
    client: FlaskClient, alice_headers: dict[str, str], create_note: Callable[..., Any]
) -> None:
    note = create_note(alice_headers)

    response = client.delete(note_url(note["id"]), headers=alice_headers)

    assert response.status_code == 204
    assert response.get_data() == b""
    assert stored_note(note["id"]) is None
    assert_problem(client.get(note_url(note["id"]), headers=alice_headers), 404)
    assert_problem(client.delete(note_url(note["id"]), headers=alice_headers), 404)
    assert client.get(NOTES, headers=alice_headers).json["total"] == 0


def test_deleting_another_users_note_is_not_found_and_keeps_it(
    client: FlaskClient,
    alice_headers: dict[str, str],
    bob_headers: dict[str, str],
    create_note: Callable[..., Any],
) -> None:
    bobs = create_note(bob_headers, title="keep me")

    response = client.delete(note_url(bobs["id"]), headers=alice_headers)

    assert_problem(response, 404)
    assert stored_note(bobs["id"]) is not None
    assert client.get(note_url(bobs["id"]), headers=bob_headers).json["title"] == "keep me"


# --- scopes and authentication ----------------------------------------------


@pytest.fixture
def read_only_headers(alice: User, headers_for: Callable[..., dict[str, str]]) -> dict[str, str]:
    return headers_for("alice", scope="notes:read")


def test_a_read_only_token_can_list_and_read_notes(
    client: FlaskClient,
    alice_headers: dict[str, str],
    read_only_headers: dict[str, str],
    create_note: Callable[..., Any],
) -> None:
    note = create_note(alice_headers, title="readable")

    listed = client.get(NOTES, headers=read_only_headers)
    fetched = client.get(note_url(note["id"]), headers=read_only_headers)

    assert listed.status_code == 200
    assert [item["id"] for item in listed.json["items"]] == [note["id"]]
    assert fetched.status_code == 200
    assert fetched.json == note


def assert_insufficient_scope(response: Any, scope: str) -> None:
    problem = assert_problem(response, 403)
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="insufficient_scope"' in challenge
    assert f'scope="{scope}"' in challenge
    assert scope in problem["detail"]


def test_a_read_only_token_cannot_create_a_note(
    client: FlaskClient, read_only_headers: dict[str, str]
) -> None:
    response = client.post(NOTES, json={"title": "nope"}, headers=read_only_headers)

    assert_insufficient_scope(response, "notes:write")
    assert db.session.query(Note).count() == 0


def test_a_read_only_token_cannot_change_a_note(
    client: FlaskClient,
    alice_headers: dict[str, str],
    read_only_headers: dict[str, str],
    create_note: Callable[..., Any],
) -> None:
    note = create_note(alice_headers, title="original")

    response = client.patch(
        note_url(note["id"]), json={"title": "changed"}, headers=read_only_headers
    )

    assert_insufficient_scope(response, "notes:write")
    assert stored_note(note["id"]).title == "original"


def test_a_read_only_token_cannot_delete_a_note(
    client: FlaskClient,
    alice_headers: dict[str, str],
    read_only_headers: dict[str, str],
    create_note: Callable[..., Any],
) -> None:
    note = create_note(alice_headers)

    response = client.delete(note_url(note["id"]), headers=read_only_headers)

    assert_insufficient_scope(response, "notes:write")
    assert stored_note(note["id"]) is not None


def test_a_write_only_token_cannot_list_notes(
    client: FlaskClient, alice: User, headers_for: Callable[..., dict[str, str]]
) -> None:
    write_only = headers_for("alice", scope="notes:write")

    response = client.get(NOTES, headers=write_only)

    assert_insufficient_scope(response, "notes:read")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", NOTES),
        ("POST", NOTES),
        ("GET", note_url(1)),
        ("PATCH", note_url(1)),
        ("DELETE", note_url(1)),
    ],
)
def test_without_a_token_every_notes_operation_is_401_with_a_bearer_challenge(
    client: FlaskClient, alice_headers: dict[str, str], method: str, path: str
) -> None:
    client.post(NOTES, json={"title": "exists"}, headers=alice_headers)

    response = client.open(path, method=method, json={"title": "x"})

    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert "error=" not in response.headers["WWW-Authenticate"]
    assert db.session.query(Note).count() == 1
    assert stored_note(1).title == "exists"


def test_a_token_revoked_by_logout_can_no_longer_read_notes(
    client: FlaskClient, alice_headers: dict[str, str]
) -> None:
    assert client.post("/auth/logout", headers=alice_headers).status_code == 204

    response = client.get(NOTES, headers=alice_headers)

    assert_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
