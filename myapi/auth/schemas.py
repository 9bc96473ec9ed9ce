"""Input and output schemas of the auth blueprint; unknown fields are refused (422).

Every rule a schema enforces is published in the OpenAPI document from the same definition
(`myapi.openapi.Pattern`, `AtMostSetting`, marshmallow's `Length` and `Range`), so a request
the document calls valid is never refused for its shape. The rules the document cannot
express are in the fields' descriptions.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from myapi.models import EMAIL_LENGTH
from myapi.openapi import AtMostSetting, Pattern
from myapi.security.passwords import MAX_LENGTH, MIN_LENGTH, password_problems
from myapi.security.principal import Kind
from myapi.security.scopes import USER_SCOPES, scope_syntax
from myapi.services.accounts import MAX_IDENTIFIER_LENGTH, normalize_identifier
from myapi.services.personal_tokens import DEFAULT_DAYS

#: Text that reaches the database: PostgreSQL cannot store or compare a NUL character.
NO_NUL = Pattern(r"[^\x00]*", error="Must not contain NUL characters.")

USERNAME = Pattern(
    r"[A-Za-z0-9_.-]{3,32}",
    error="Must be 3-32 characters of a-z, 0-9, '_', '.' or '-' (letters in either case).",
)


# An address as HTML's `<input type="email">` takes it, but with a dot in the domain: ASCII
# only, so no control, bidirectional, invisible or look-alike character can be in one, and
# the pattern reads the same in Python and in every JSON Schema dialect. (A domain with
# other letters is written in its ASCII form, `xn--...`.)
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
EMAIL = Pattern(
    rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+",
    error="Not a valid email address: ASCII only, with a dot in the domain.",
)

# One or more known scopes separated by spaces; login and personal tokens take the same.
USER_SCOPE = Pattern(
    scope_syntax(USER_SCOPES),
    error="Must be one or more of " + ", ".join(USER_SCOPES) + ", separated by spaces.",
)

# The length rule of `validate_new_password`, published in the OpenAPI document so clients
# (and schemathesis) know a shorter or longer password is invalid.
PASSWORD_LENGTH = {"minLength": MIN_LENGTH, "maxLength": MAX_LENGTH}


class Identifier(ma.fields.String):
    """A username or an email: its rules hold for the text as sent, which is what the document
    describes, and for the form it is stored, compared and looked up in, which it returns.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        sent = super()._deserialize(value, attr, data, **kwargs)
        self._validate(sent)
        return normalize_identifier(sent)


def validate_new_password(password: str) -> None:
    problems = password_problems(password)
    if problems:
        raise ma.ValidationError(problems)


class RegisterSchema(ma.Schema):
    username = Identifier(
        required=True,
        validate=USERNAME,
        metadata={"description": "Unique in any case; stored in lower case."},
    )
    email = Identifier(
        required=True,
        validate=[validate.Length(max=EMAIL_LENGTH), EMAIL],
        # No `format: email`: validators read it differently (RFC 5321, 6531, or only "an @"),
        # and the pattern is exactly what is accepted.
        metadata={"description": "Unique in any case; stored in lower case."},
    )
    password = ma.fields.String(
        required=True,
        validate=validate_new_password,
        metadata=PASSWORD_LENGTH
        | {"description": "Not one of the 10,000 most common passwords (in any case)."},
    )


class UserSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    username = ma.fields.String(dump_only=True)
    email = ma.fields.String(dump_only=True)
    role = ma.fields.String(dump_only=True)
    is_active = ma.fields.Boolean(dump_only=True)
    email_verified = ma.fields.Boolean(
        dump_only=True,
        metadata={"description": "Whether the owner followed the link sent to `email`."},
    )
    created_at = ma.fields.AwareDateTime(dump_only=True)


class LoginSchema(ma.Schema):
    username = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=MAX_IDENTIFIER_LENGTH), NO_NUL],
        metadata={"description": "The username or the email address."},
    )
    password = ma.fields.String(required=True, validate=validate.Length(min=1, max=MAX_LENGTH))
    scope = ma.fields.String(
        validate=USER_SCOPE,
        metadata={
            "description": "Space-separated scopes; default: all the role allows. "
            "A login none of whose scopes the role allows is a 422."
        },
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
        required=True,
        validate=validate_new_password,
        metadata=PASSWORD_LENGTH
        | {
            "description": "Different from current_password, and not one of the 10,000 most "
            "common passwords (in any case)."
        },
    )

    @ma.validates_schema
    def new_differs(self, data: dict[str, str], **_: Any) -> None:
        if data["current_password"] == data["new_password"]:
            raise ma.ValidationError("Must differ from the current password.", "new_password")


class ForgotPasswordSchema(ma.Schema):
    email = Identifier(
        required=True,
        validate=[validate.Length(max=EMAIL_LENGTH), EMAIL],
        metadata={"description": "The account's email address (in any case)."},
    )


class AcceptedSchema(ma.Schema):
    detail = ma.fields.String(required=True)


class PasswordResetSchema(ma.Schema):
    token = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=256), NO_NUL],
        metadata={"description": "The token from the fragment of the emailed link."},
    )
    new_password = ma.fields.String(
        required=True,
        validate=validate_new_password,
        metadata=PASSWORD_LENGTH
        | {"description": "Not one of the 10,000 most common passwords (in any case)."},
    )


class EmailChangeSchema(ma.Schema):
    email = Identifier(
        required=True,
        validate=[validate.Length(max=EMAIL_LENGTH), EMAIL],
        metadata={"description": "The new address; unique in any case, like at registration."},
    )


class VerifyEmailSchema(ma.Schema):
    token = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=256), NO_NUL],
        metadata={"description": "The token from the fragment of the emailed link."},
    )


class SessionSchema(ma.Schema):
    id = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    last_used_at = ma.fields.AwareDateTime(required=True)
    user_agent = ma.fields.String(required=True)
    ip = ma.fields.String(required=True)
    current = ma.fields.Boolean(required=True)


class PersonalTokenCreateSchema(ma.Schema):
    name = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=100), NO_NUL],
        metadata={"description": "What the token is for, to recognise it in the listing."},
    )
    scope = ma.fields.String(
        required=True,
        validate=[validate.Length(max=255), USER_SCOPE],
        metadata={
            "description": "Space-separated scopes, within the scope of the token making it."
        },
    )
    expires_in_days = ma.fields.Integer(
        strict=True,
        load_default=DEFAULT_DAYS,
        validate=AtMostSetting("PAT_MAX_DAYS", minimum=1),
        metadata={"description": f"Default {DEFAULT_DAYS}; at most PAT_MAX_DAYS."},
    )


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


class ConnectedAppSchema(ma.Schema):
    client_id = ma.fields.String(required=True)
    name = ma.fields.String(required=True, metadata={"description": "The app's name."})
    scope = ma.fields.String(
        required=True, metadata={"description": "What the user has allowed the app."}
    )
    granted_at = ma.fields.AwareDateTime(
        required=True, metadata={"description": "When the user last allowed it."}
    )
    last_used_at = ma.fields.AwareDateTime(
        required=True,
        allow_none=True,
        metadata={"description": "The app's last token issue or refresh; null if none yet."},
    )
