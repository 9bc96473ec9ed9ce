"""Schemas of the protected resources; dump schemas list every field a client may see."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from myapi.auth.schemas import NO_NUL, UserSchema
from myapi.pagination import page_schema
from myapi.security.scopes import ROLES


class NoteSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    title = ma.fields.String(required=True, validate=[validate.Length(min=1, max=200), NO_NUL])
    body = ma.fields.String(load_default="", validate=[validate.Length(max=10_000), NO_NUL])
    created_at = ma.fields.AwareDateTime(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True)


class NoteUpdateSchema(ma.Schema):
    class Meta:
        min_properties = 1  # published as minProperties (myapi/openapi.py)

    title = ma.fields.String(validate=[validate.Length(min=1, max=200), NO_NUL])
    body = ma.fields.String(validate=[validate.Length(max=10_000), NO_NUL])

    @ma.validates_schema
    def not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ma.ValidationError("Give at least one of: title, body.")


class UserAdminUpdateSchema(ma.Schema):
    class Meta:
        min_properties = 1

    role = ma.fields.String(validate=validate.OneOf(ROLES))
    is_active = ma.fields.Boolean()

    @ma.validates_schema
    def not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ma.ValidationError("Give at least one of: role, is_active.")


NotePageSchema = page_schema(NoteSchema, "NotePage")
UserPageSchema = page_schema(UserSchema, "UserPage")
