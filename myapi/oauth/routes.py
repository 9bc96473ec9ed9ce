"""OAuth 2 endpoints: token (client credentials), revocation, introspection, metadata.

The protocol work happens in `server.authorization_server` (Authlib); these views only
route to it and document it. Their answers are RFC 6749 JSON, with `Cache-Control:
no-store` and `Pragma: no-cache` (http_policy adds them to every answer as well).
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from flask import Response, current_app, request

from myapi.extensions import api, limiter
from myapi.http_policy import FORM_MIMETYPE
from myapi.oauth import blp
from myapi.oauth.ratelimits import oauth_client_key
from myapi.oauth.schemas import (
    IntrospectionSchema,
    MetadataSchema,
    OAuthErrorSchema,
    OpenIDConfigurationSchema,
    TokenParameterSchema,
    TokenRequestSchema,
    TokenResponseSchema,
    UserInfoSchema,
)
from myapi.oauth.server import (
    APP_AUTH_METHODS,
    CLIENT_AUTH_METHODS,
    GRANT_TYPES,
    PROMPTS,
    authorization_server,
    one_client_authentication,
    user_info,
)
from myapi.openapi import BEARER_SCHEME
from myapi.public_urls import absolute_url
from myapi.ratelimits import configured_limit
from myapi.security.authorization import require_scope
from myapi.security.key_material import ALGORITHMS
from myapi.security.policy import TwoCredentials
from myapi.security.principal import caller
from myapi.security.scopes import CLIENT_SCOPES, DELEGATED_SCOPES
from myapi.services.clients import AUTHORIZATION_CODE, REFRESH_TOKEN

CLIENT_SCHEME = "clientBasic"
OAUTH2_SCHEME = "oauth2"


@blp.record_once
def _document_client_authentication(_state: Any) -> None:
    api.spec.components.security_scheme(
        CLIENT_SCHEME,
        {
            "type": "http",
            "scheme": "basic",
            "description": "client_secret_basic: the client id and secret. The token, "
            "revocation and introspection endpoints also take them as form fields "
            "(client_secret_post).",
        },
    )
    # How a client obtains the bearer tokens the API takes: the flows this server offers.
    # Documented only, never required of an operation (the bearer scheme is).
    every_scope = {scope: scope for scope in dict.fromkeys(CLIENT_SCOPES + DELEGATED_SCOPES)}
    api.spec.components.security_scheme(
        OAUTH2_SCHEME,
        {
            "type": "oauth2",
            "description": "The flows this authorization server offers; see docs/oauth.md.",
            "flows": {
                "clientCredentials": {"tokenUrl": "/oauth/token", "scopes": every_scope},
                "authorizationCode": {
                    "authorizationUrl": "/oauth/authorize",
                    "tokenUrl": "/oauth/token",
                    "refreshUrl": "/oauth/token",
                    "scopes": every_scope,
                },
            },
        },
    )


blp.before_request(one_client_authentication)


@blp.errorhandler(OAuth2Error)
def oauth_error(error: OAuth2Error) -> Response:
    """Protocol errors raised before Authlib's own handling (e.g. plain HTTP, no grant type)."""
    return authorization_server.handle_error_response(None, error)


@blp.errorhandler(TwoCredentials)
def two_credentials(_error: TwoCredentials) -> Response:
    """Two credentials in the Authorization header: RFC 6749 JSON here, like every OAuth error."""
    return oauth_error(InvalidRequestError("Send exactly one credential."))


def _form_body(schema: type) -> dict[str, Any]:
    return {"required": True, "content": {FORM_MIMETYPE: {"schema": schema}}}


def _errors(*statuses: int) -> Any:
    """Document RFC 6749 error answers for `statuses`."""

    def decorate(view: Any) -> Any:
        for status in statuses:
            view = blp.alt_response(
                status, schema=OAuthErrorSchema, content_type="application/json"
            )(view)
        return view

    return decorate


@blp.route("/oauth/token", methods=["POST"])
@limiter.limit(
    configured_limit("OAUTH_TOKEN_LIMIT_PER_CLIENT"),
    key_func=oauth_client_key,
    deduct_when=lambda response: response.status_code == 200,
    # A service's own tokens only: an app's code exchanges and refreshes act for its many
    # users, and one budget for all of them would let a busy app lock its users out.
    exempt_when=lambda: request.form.get("grant_type") != "client_credentials",
    override_defaults=False,
)
@blp.doc(requestBody=_form_body(TokenRequestSchema), security=[{CLIENT_SCHEME: []}])
@blp.response(200, TokenResponseSchema)
@_errors(400, 401)
def token() -> Response:
    """The token endpoint: a service's own token (client credentials, RFC 6749 4.4, no
    refresh token), or an app's tokens acting for a user (authorization code with PKCE,
    RFC 6749 4.1 and RFC 7636; refresh token, RFC 6749 6, rotated on every use).

    Rate limited per client (OAUTH_TOKEN_LIMIT_PER_CLIENT, counting the tokens issued to it)
    and, like every route, per address (RATELIMIT_DEFAULT, counting every attempt). A
    request authenticating the client in two ways is 400 `invalid_request`. Errors are
    RFC 6749 5.2 JSON: 401 `invalid_client` (with a Basic challenge), 400 `invalid_request`,
    `invalid_grant`, `invalid_scope`, `unauthorized_client`, `unsupported_grant_type`.
    """
    return authorization_server.create_token_response()


@blp.route("/oauth/revoke", methods=["POST"])
@blp.doc(
    requestBody=_form_body(TokenParameterSchema),
    security=[{CLIENT_SCHEME: []}, {BEARER_SCHEME: []}],
)
@blp.response(200, description="Revoked, or nothing to revoke: the answer is the same.")
@_errors(400, 401)
def revoke() -> Response:
    """Revoke a token (RFC 7009): a client its own tokens, a user (bearer token) theirs.

    A refresh token ends its whole session. An unknown, expired, already revoked or
    someone else's token gets the same empty 200 and nothing changes.
    """
    return authorization_server.create_endpoint_response("revocation")


@blp.route("/oauth/introspect", methods=["POST"])
@blp.doc(requestBody=_form_body(TokenParameterSchema), security=[{CLIENT_SCHEME: []}])
@blp.response(200, IntrospectionSchema)
@_errors(400, 401, 403)
def introspect() -> Response:
    """Introspect a token (RFC 7662), for clients holding the `introspect` scope.

    An active token gets its claims; any other token gets exactly `{"active": false}`.
    """
    return authorization_server.create_endpoint_response("introspection")


@blp.route("/.well-known/oauth-authorization-server", methods=["GET"])
@blp.response(200, MetadataSchema)
def metadata() -> Any:
    """Authorization server metadata (RFC 8414, with RFC 9207's `iss` parameter).

    Endpoint URLs start with PUBLIC_URL, never with the Host this request named. The
    authorization endpoint answers `response_type=code` only, with PKCE `S256` required.
    """
    return {
        "issuer": current_app.config["JWT_ISSUER"],
        "authorization_endpoint": absolute_url("oauth_pages.authorize"),
        "token_endpoint": absolute_url("oauth.token"),
        "revocation_endpoint": absolute_url("oauth.revoke"),
        "introspection_endpoint": absolute_url("oauth.introspect"),
        "jwks_uri": absolute_url("oauth.jwks"),
        "grant_types_supported": GRANT_TYPES,
        "response_types_supported": ["code"],
        "scopes_supported": list(dict.fromkeys(CLIENT_SCOPES + DELEGATED_SCOPES)),
        "token_endpoint_auth_methods_supported": APP_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": APP_AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
    }


#: The claims ID tokens and UserInfo may carry.
OPENID_CLAIMS = (
    "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash",
    "preferred_username", "email",
)  # fmt: skip


@blp.route("/oauth/userinfo", methods=["GET"])
@require_scope("openid", apps=True)
@blp.response(200, UserInfoSchema)
def userinfo() -> Any:
    """OpenID Connect UserInfo, for an app's token holding `openid`: `sub`, and with
    `profile` the username, with `email` the email address."""
    principal = caller()
    return user_info(principal.account, principal.scope)


@blp.route("/.well-known/openid-configuration", methods=["GET"])
@blp.response(200, OpenIDConfigurationSchema)
def openid_configuration() -> Any:
    """OpenID Connect Discovery: where to send users, exchange codes, verify ID tokens.

    ID tokens are signed with the asymmetric keys of `TOKEN_SIGNING=keys` (in the JWKS).
    Endpoint URLs start with PUBLIC_URL; `issuer` is JWT_ISSUER, the `iss` of every token
    and authorization response (OpenID clients expect it to be the https URL this document
    is served under).
    """
    return {
        "issuer": current_app.config["JWT_ISSUER"],
        "authorization_endpoint": absolute_url("oauth_pages.authorize"),
        "token_endpoint": absolute_url("oauth.token"),
        "userinfo_endpoint": absolute_url("oauth.userinfo"),
        "jwks_uri": absolute_url("oauth.jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(ALGORITHMS),
        "scopes_supported": list(DELEGATED_SCOPES),
        "claims_supported": list(OPENID_CLAIMS),
        "grant_types_supported": [AUTHORIZATION_CODE, REFRESH_TOKEN],
        "token_endpoint_auth_methods_supported": APP_AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": sorted(PROMPTS),
        "authorization_response_iss_parameter_supported": True,
    }
