"""Schemas of the protected resources; dump schemas list every field a client may see."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from myapi.auth.schemas import NO_NUL, UserSchema
from myapi.openapi import PartialUpdateSchema
from myapi.pagination import page_schema
from myapi.security.scopes import ROLES


class NoteSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    title = ma.fields.String(required=True, validate=[validate.Length(min=1, max=200), NO_NUL])
    body = ma.fields.String(load_default="", validate=[validate.Length(max=10_000), NO_NUL])
    created_at = ma.fields.AwareDateTime(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True)


class NoteUpdateSchema(PartialUpdateSchema):
    title = ma.fields.String(validate=[validate.Length(min=1, max=200), NO_NUL])
    body = ma.fields.String(validate=[validate.Length(max=10_000), NO_NUL])


class JsonBoolean(ma.fields.Boolean):
    """JSON `true` or `false` only, as the document's `type: boolean` says.

    marshmallow's Boolean also takes "yes", "on", 1 and 0 (and `truthy={True}` still
    takes 1, which equals True in Python).
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class UserAdminUpdateSchema(PartialUpdateSchema):
    role = ma.fields.String(validate=validate.OneOf(ROLES))
    is_active = JsonBoolean()


NotePageSchema = page_schema(NoteSchema, "NotePage")
UserPageSchema = page_schema(UserSchema, "UserPage")
