"""Notes (each user sees only their own) and user administration (admins only).

OAuth clients act for the service, not for a person: a client's token with `notes:read`
reads every user's notes, and `users:read`/`users:write` administer accounts. Writing
notes, which need an owner, is for users only.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import Select, select

from myapi.accounts import set_active, set_role
from myapi.auth.schemas import UserSchema
from myapi.extensions import db
from myapi.models import Note, User
from myapi.openapi import Blueprint
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

blp = Blueprint("protected", __name__, url_prefix="/api/v1", description="Resources.")

# Path ids beyond a 32-bit integer cannot exist; the converter turns them into a 404.
ID = "int(min=1, max=2147483647)"


def owned_notes() -> Select[tuple[Note]]:
    """The caller's own notes: what a user may read, and all that anyone may change."""
    return select(Note).where(Note.owner_id == caller().user_id)


def readable_notes() -> Select[tuple[Note]]:
    """The notes the caller may read: their own, or every user's for an OAuth client."""
    return select(Note) if caller().kind is Kind.CLIENT else owned_notes()


def note_or_404(notes: Select[tuple[Note]], note_id: int) -> Note:
    """One note of `notes`, or 404: another user's note is indistinguishable from none."""
    note = db.session.scalar(notes.where(Note.id == note_id))
    if note is None:
        abort(404, message="No such note.")
    return note


@blp.route("/notes")
class Notes(MethodView):
    @require_scope("notes:read", clients=True)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, NotePageSchema)
    def get(self, page: dict[str, int]) -> Any:
        """List the caller's notes (a client: everyone's), newest first."""
        return paginate(readable_notes().order_by(Note.id.desc()), **page)

    @require_scope("notes:write")
    @blp.arguments(NoteSchema)
    @blp.response(201, NoteSchema)
    def post(self, data: dict[str, str]) -> Any:
        """Create a note."""
        note = Note(owner_id=caller().user_id, **data)
        db.session.add(note)
        db.session.commit()
        return note


@blp.route(f"/notes/<{ID}:note_id>")
class NoteItem(MethodView):
    @require_scope("notes:read", clients=True)
    @blp.response(200, NoteSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, note_id: int) -> Any:
        """One of the caller's notes (a client: anyone's)."""
        return note_or_404(readable_notes(), note_id)

    @require_scope("notes:write")
    @blp.arguments(NoteUpdateSchema)
    @blp.response(200, NoteSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, data: dict[str, str], note_id: int) -> Any:
        """Change a note's title or body."""
        note = note_or_404(owned_notes(), note_id)
        for field, value in data.items():
            setattr(note, field, value)
        db.session.commit()
        return note

    @require_scope("notes:write")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, note_id: int) -> None:
        """Delete a note."""
        db.session.delete(note_or_404(owned_notes(), note_id))
        db.session.commit()


@blp.route("/admin/users")
class AdminUsers(MethodView):
    @require_scope("users:read", clients=True)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, UserPageSchema)
    def get(self, page: dict[str, int]) -> Any:
        """List all accounts."""
        return paginate(select(User).order_by(User.id), **page)


@blp.route(f"/admin/users/<{ID}:user_id>")
class AdminUser(MethodView):
    @require_scope("users:read", clients=True)
    @blp.response(200, UserSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, user_id: int) -> Any:
        """One account."""
        return db.get_or_404(User, user_id, description="No such user.")

    @require_scope("users:write", clients=True)
    @blp.arguments(UserAdminUpdateSchema)
    @blp.response(200, UserSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, data: dict[str, Any], user_id: int) -> Any:
        """Change an account's role or active state; disabling revokes all its tokens at once."""
        user = db.get_or_404(User, user_id, description="No such user.")
        if user.id == caller().user_id:
            abort(409, message="Administrators cannot change their own role or status.")
        if "role" in data:
            set_role(user, data["role"])
        if "is_active" in data:
            set_active(user, data["is_active"])
        return user
