"""Input and output schemas of the auth blueprint; unknown fields are refused (422)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from marshmallow import validate

from myapi.security.passwords import MAX_LENGTH, MIN_LENGTH, password_problems
from myapi.security.principal import Kind
from myapi.security.scopes import USER_SCOPES, parse_scope
from myapi.services.personal_tokens import DEFAULT_DAYS


class Username(ma.fields.String):
    """Lower-cased before validation, so usernames are unique case-insensitively."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).lower()


#: Text that reaches the database: PostgreSQL cannot store or compare a NUL character.
NO_NUL = validate.Regexp(r"^[^\x00]*$", error="Must not contain NUL characters.")

# The length rule of `validate_new_password`, published in the OpenAPI document so clients
# (and schemathesis) know a shorter or longer password is invalid.
PASSWORD_LENGTH = {"minLength": MIN_LENGTH, "maxLength": MAX_LENGTH}


def validate_new_password(password: str) -> None:
    problems = password_problems(password)
    if problems:
        raise ma.ValidationError(problems)


def validate_scope(text: str) -> None:
    unknown = parse_scope(text) - set(USER_SCOPES)
    if unknown:
        raise ma.ValidationError(f"Unknown scope: {' '.join(sorted(unknown))}.")


class RegisterSchema(ma.Schema):
    username = Username(
        required=True,
        validate=validate.Regexp(
            r"^[a-z0-9_.-]{3,32}$",
            error="Must be 3-32 characters of a-z, 0-9, '_', '.' or '-'.",
        ),
    )
    email = ma.fields.Email(required=True, validate=validate.Length(max=254))
    password = ma.fields.String(
        required=True, validate=validate_new_password, metadata=PASSWORD_LENGTH
    )


class UserSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    username = ma.fields.String(dump_only=True)
    email = ma.fields.String(dump_only=True)
    role = ma.fields.String(dump_only=True)
    is_active = ma.fields.Boolean(dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)


class LoginSchema(ma.Schema):
    username = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=254), NO_NUL],
        metadata={"description": "The username or the email address."},
    )
    password = ma.fields.String(required=True, validate=validate.Length(min=1, max=MAX_LENGTH))
    scope = ma.fields.String(
        validate=validate_scope,
        metadata={"description": "Space-separated scopes; default: all the role allows."},
    )


class TokenPairSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(
        metadata={
            "description": "Absent in browser mode (request header `X-Token-Delivery: cookie`): "
            "the refresh token is then set as an HttpOnly cookie for /auth/refresh."
        }
    )
    csrf_token = ma.fields.String(
        metadata={
            "description": "Browser mode only: send it as `X-CSRF-Token` with every refresh "
            "that the cookie authenticates."
        }
    )
    token_type = ma.fields.String(required=True)
    expires_in = ma.fields.Integer(required=True)
    scope = ma.fields.String(required=True)


class TokenInfoSchema(ma.Schema):
    sub = ma.fields.String(
        required=True, metadata={"description": "The user id, or the client id."}
    )
    kind = ma.fields.String(
        required=True,
        validate=validate.OneOf([kind.value for kind in Kind]),
        metadata={"description": "session, personal (access token) or client."},
    )
    scope = ma.fields.String(
        required=True,
        metadata={
            "description": "Effective: as granted, narrowed to what the holder may hold now."
        },
    )
    sid = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The login session; null for personal and client tokens."},
    )
    iat = ma.fields.Integer(required=True)
    exp = ma.fields.Integer(required=True)
    fresh = ma.fields.Boolean(required=True)


class PasswordChangeSchema(ma.Schema):
    current_password = ma.fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_LENGTH)
    )
    new_password = ma.fields.String(
        required=True, validate=validate_new_password, metadata=PASSWORD_LENGTH
    )

    @ma.validates_schema
    def new_differs(self, data: dict[str, str], **_: Any) -> None:
        if data["current_password"] == data["new_password"]:
            raise ma.ValidationError("Must differ from the current password.", "new_password")


class SessionSchema(ma.Schema):
    id = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    last_used_at = ma.fields.AwareDateTime(required=True)
    user_agent = ma.fields.String(required=True)
    ip = ma.fields.String(required=True)
    current = ma.fields.Boolean(required=True)


# One or more known scopes separated by spaces, published as the field's `pattern` so the
# document says exactly which strings are valid.
_ONE_SCOPE = "(" + "|".join(USER_SCOPES) + ")"
TOKEN_SCOPE = validate.Regexp(
    rf"^ *{_ONE_SCOPE}( +{_ONE_SCOPE})* *$",
    error="Must be one or more of " + ", ".join(USER_SCOPES) + ", separated by spaces.",
)


class PersonalTokenCreateSchema(ma.Schema):
    name = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=100), NO_NUL],
        metadata={"description": "What the token is for, to recognise it in the listing."},
    )
    scope = ma.fields.String(
        required=True,
        validate=[validate.Length(max=255), TOKEN_SCOPE],
        metadata={
            "description": "Space-separated scopes, within the scope of the token making it."
        },
    )
    expires_in_days = ma.fields.Integer(
        strict=True,
        load_default=DEFAULT_DAYS,
        validate=validate.Range(min=1),
        metadata={"description": f"Default {DEFAULT_DAYS}; at most PAT_MAX_DAYS (366 unless set)."},
    )

    @ma.validates("expires_in_days")
    def within_maximum(self, days: int, **_: Any) -> None:
        maximum = current_app.config["PAT_MAX_DAYS"]
        if days > maximum:
            raise ma.ValidationError(f"Must be at most {maximum}.")


class PersonalTokenSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    scope = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    last_used_at = ma.fields.AwareDateTime(
        required=True,
        allow_none=True,
        metadata={"description": "To the minute; null until first used."},
    )
    expires_at = ma.fields.AwareDateTime(required=True)


class NewPersonalTokenSchema(PersonalTokenSchema):
    class Meta:
        exclude = ("last_used_at",)

    token = ma.fields.String(
        required=True,
        metadata={"description": "The token: shown only in this response, never again."},
    )
