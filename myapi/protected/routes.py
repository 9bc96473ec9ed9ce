"""Notes (each user sees only their own) and user administration (admins only).

OAuth clients act for the service, not for a person: a client's token with `notes:read`
reads every user's notes, and `users:read`/`users:write` administer accounts. Writing
notes, which need an owner, is for users only.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import Select

from myapi.auth.schemas import UserSchema
from myapi.models import Note, User
from myapi.openapi import ROW_ID, Blueprint
from myapi.pagination import PageArgsSchema, paginate
from myapi.protected.schemas import (
    NotePageSchema,
    NoteSchema,
    NoteUpdateSchema,
    UserAdminUpdateSchema,
    UserPageSchema,
)
from myapi.security.authorization import require_scope
from myapi.security.principal import Kind, caller
from myapi.services import accounts, notes

blp = Blueprint("protected", __name__, url_prefix="/api/v1", description="Resources.")


def owned_notes() -> Select[tuple[Note]]:
    """The caller's own notes: what a user may read, and all that anyone may change."""
    return notes.owned_notes(caller().user_id)


def readable_notes() -> Select[tuple[Note]]:
    """The notes the caller may read: their own, or every user's for an OAuth client."""
    principal = caller()
    return notes.readable_notes(None if principal.kind is Kind.CLIENT else principal.user_id)


def note_or_404(candidates: Select[tuple[Note]], note_id: int) -> Note:
    """One note of `candidates`, or 404: another user's note is indistinguishable from none."""
    note = notes.find_note(candidates, note_id)
    if note is None:
        abort(404, message="No such note.")
    return note


def user_or_404(user_id: int) -> User:
    user = accounts.get_user(user_id)
    if user is None:
        abort(404, message="No such user.")
    return user


@blp.route("/notes")
class Notes(MethodView):
    @require_scope("notes:read", clients=True, apps=True)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, NotePageSchema)
    def get(self, page: dict[str, int]) -> Any:
        """List the caller's notes (a client: everyone's), newest first."""
        return paginate(readable_notes().order_by(Note.id.desc()), **page)

    @require_scope("notes:write", apps=True)
    @blp.arguments(NoteSchema)
    @blp.response(201, NoteSchema)
    def post(self, data: dict[str, str]) -> Any:
        """Create a note."""
        return notes.create_note(caller().user_id, **data)


@blp.route(f"/notes/<{ROW_ID}:note_id>")
class NoteItem(MethodView):
    @require_scope("notes:read", clients=True, apps=True)
    @blp.response(200, NoteSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, note_id: int) -> Any:
        """One of the caller's notes (a client: anyone's)."""
        return note_or_404(readable_notes(), note_id)

    @require_scope("notes:write", apps=True)
    @blp.arguments(NoteUpdateSchema)
    @blp.response(200, NoteSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, data: dict[str, str], note_id: int) -> Any:
        """Change a note's title or body."""
        return notes.update_note(note_or_404(owned_notes(), note_id), data)

    @require_scope("notes:write", apps=True)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, note_id: int) -> None:
        """Delete a note."""
        notes.delete_note(note_or_404(owned_notes(), note_id))


@blp.route("/admin/users")
class AdminUsers(MethodView):
    @require_scope("users:read", clients=True, apps=True)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, UserPageSchema)
    def get(self, page: dict[str, int]) -> Any:
        """List all accounts."""
        return paginate(accounts.all_users(), **page)


@blp.route(f"/admin/users/<{ROW_ID}:user_id>")
class AdminUser(MethodView):
    @require_scope("users:read", clients=True, apps=True)
    @blp.response(200, UserSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, user_id: int) -> Any:
        """One account."""
        return user_or_404(user_id)

    @require_scope("users:write", clients=True, apps=True)
    @blp.arguments(UserAdminUpdateSchema)
    @blp.response(200, UserSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, data: dict[str, Any], user_id: int) -> Any:
        """Change an account's role or active state; disabling revokes all its tokens at once."""
        user = user_or_404(user_id)
        if user.id == caller().user_id:
            abort(409, message="Administrators cannot change their own role or status.")
        accounts.administer(user, role=data.get("role"), active=data.get("is_active"))
        return user
