"""Request and response schemas of the OAuth endpoints, for the OpenAPI document.

Authlib reads the form bodies itself (RFC 6749's rules, RFC 6749 errors), so these
schemas describe the bodies rather than parse them. Unknown parameters are allowed:
RFC 6749 3.2 says an authorization server MUST ignore parameters it does not know.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from myapi.openapi import Pattern
from myapi.security.scopes import CLIENT_SCOPES, DELEGATED_SCOPES, scope_syntax

TOKEN_TYPE_HINTS = ("access_token", "refresh_token")
#: What `scope` may say at the token endpoint; `server.RegisteredClient` enforces it.
CLIENT_SCOPE = Pattern(
    scope_syntax(CLIENT_SCOPES),
    error="Must be one or more of " + ", ".join(CLIENT_SCOPES) + ", separated by spaces.",
)


class FormSchema(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE

    client_id = ma.fields.String(
        metadata={"description": "With client_secret_post: the client id (else HTTP Basic)."}
    )
    client_secret = ma.fields.String(
        metadata={"description": "With client_secret_post: the client secret."}
    )


_ANY_SCOPES = tuple(dict.fromkeys(CLIENT_SCOPES + DELEGATED_SCOPES))
#: What `scope` may say at the token endpoint for any grant (each grant narrows it further).
TOKEN_SCOPE = Pattern(
    scope_syntax(_ANY_SCOPES),
    error="Must be one or more of " + ", ".join(_ANY_SCOPES) + ", separated by spaces.",
)


class TokenRequestSchema(FormSchema):
    grant_type = ma.fields.String(
        required=True,
        validate=validate.OneOf(["client_credentials", "authorization_code", "refresh_token"]),
        metadata={
            "description": "`client_credentials`: a service's own token. `authorization_code` "
            "(with `code`, `redirect_uri`, `code_verifier`) and `refresh_token` (with "
            "`refresh_token`): a third-party app acting for a user. A public app sends "
            "`client_id` alone."
        },
    )
    scope = ma.fields.String(
        validate=TOKEN_SCOPE,
        metadata={
            "description": "client_credentials: space-separated, within the client's allowance "
            "(default: all of it). refresh_token: within the grant (default: all of it). "
            "Anything else is a 400 `invalid_scope`."
        },
    )
    code = ma.fields.String(metadata={"description": "authorization_code: the code."})
    redirect_uri = ma.fields.String(
        metadata={"description": "authorization_code: exactly as in the authorization request."}
    )
    code_verifier = ma.fields.String(
        metadata={"description": "authorization_code: the PKCE verifier (RFC 7636)."}
    )
    refresh_token = ma.fields.String(metadata={"description": "refresh_token: the token."})


class TokenResponseSchema(ma.Schema):
    access_token = ma.fields.String(required=True, metadata={"description": "A signed JWT."})
    token_type = ma.fields.String(required=True, validate=validate.OneOf(["Bearer"]))
    expires_in = ma.fields.Integer(required=True, metadata={"description": "Seconds."})
    scope = ma.fields.String(required=True)
    refresh_token = ma.fields.String(
        metadata={"description": "For an app's grant (authorization_code, refresh_token)."}
    )


class TokenParameterSchema(FormSchema):
    token = ma.fields.String(required=True, metadata={"description": "The token, in full."})
    token_type_hint = ma.fields.String(
        metadata={
            "description": f"Optional and ignored: {' or '.join(TOKEN_TYPE_HINTS)}; "
            "every kind of token is recognised by itself."
        }
    )


class IntrospectionSchema(ma.Schema):
    """RFC 7662 2.2; an inactive token has `active: false` and nothing else."""

    active = ma.fields.Boolean(required=True)
    scope = ma.fields.String()
    client_id = ma.fields.String(metadata={"description": "For a client's token."})
    username = ma.fields.String(metadata={"description": "For a user's token."})
    token_type = ma.fields.String(validate=validate.OneOf(TOKEN_TYPE_HINTS))
    exp = ma.fields.Integer()
    iat = ma.fields.Integer()
    nbf = ma.fields.Integer()
    sub = ma.fields.String()
    aud = ma.fields.String()
    iss = ma.fields.String()
    jti = ma.fields.String()


class OAuthErrorSchema(ma.Schema):
    """RFC 6749 5.2, the error shape OAuth clients parse (not problem+json)."""

    error = ma.fields.String(required=True)
    error_description = ma.fields.String()


class MetadataSchema(ma.Schema):
    """RFC 8414 authorization server metadata."""

    issuer = ma.fields.String(required=True)
    authorization_endpoint = ma.fields.String(required=True)
    token_endpoint = ma.fields.String(required=True)
    revocation_endpoint = ma.fields.String(required=True)
    introspection_endpoint = ma.fields.String(required=True)
    jwks_uri = ma.fields.String(required=True)
    grant_types_supported = ma.fields.List(ma.fields.String(), required=True)
    response_types_supported = ma.fields.List(ma.fields.String(), required=True)
    scopes_supported = ma.fields.List(ma.fields.String(), required=True)
    token_endpoint_auth_methods_supported = ma.fields.List(ma.fields.String(), required=True)
    revocation_endpoint_auth_methods_supported = ma.fields.List(ma.fields.String(), required=True)
    introspection_endpoint_auth_methods_supported = ma.fields.List(
        ma.fields.String(), required=True
    )
    code_challenge_methods_supported = ma.fields.List(ma.fields.String(), required=True)
    authorization_response_iss_parameter_supported = ma.fields.Boolean(
        required=True,
        metadata={"description": "RFC 9207: `iss` is on every authorization response."},
    )


class UserInfoSchema(ma.Schema):
    """OpenID Connect UserInfo (Core 5.3): what the token's scopes reveal."""

    sub = ma.fields.String(required=True, metadata={"description": "The user id."})
    preferred_username = ma.fields.String(metadata={"description": "With scope `profile`."})
    email = ma.fields.String(metadata={"description": "With scope `email` (not verified)."})


class OpenIDConfigurationSchema(ma.Schema):
    """OpenID Connect Discovery 1.0 provider metadata."""

    issuer = ma.fields.String(required=True)
    authorization_endpoint = ma.fields.String(required=True)
    token_endpoint = ma.fields.String(required=True)
    userinfo_endpoint = ma.fields.String(required=True)
    jwks_uri = ma.fields.String(required=True)
    response_types_supported = ma.fields.List(ma.fields.String(), required=True)
    subject_types_supported = ma.fields.List(ma.fields.String(), required=True)
    id_token_signing_alg_values_supported = ma.fields.List(ma.fields.String(), required=True)
    scopes_supported = ma.fields.List(ma.fields.String(), required=True)
    claims_supported = ma.fields.List(ma.fields.String(), required=True)
    grant_types_supported = ma.fields.List(ma.fields.String(), required=True)
    token_endpoint_auth_methods_supported = ma.fields.List(ma.fields.String(), required=True)
    code_challenge_methods_supported = ma.fields.List(ma.fields.String(), required=True)
    prompt_values_supported = ma.fields.List(ma.fields.String(), required=True)
    authorization_response_iss_parameter_supported = ma.fields.Boolean(required=True)
