"""The OAuth 2 authorization server, built on Authlib: client credentials, RFC 7009, RFC 7662.

Authlib does the protocol: parsing the form, client authentication (HTTP Basic or
`client_secret_post`), grant dispatch, scope and error handling. This module supplies our
parts: the client records (`RegisteredClient`), the token (`issue_client_token`, signed by
`tokens.sign_token` like every other token), and what revoking or introspecting a token
means here (`myapi.oauth.inspection`).

Errors are RFC 6749 5.2 JSON (`{"error", "error_description"}`), not problem+json: OAuth
clients parse that shape. Every client-authentication failure is a 401 with a Basic
challenge, whichever method the client tried. Only the client credentials grant is
registered: the password grant is deprecated (RFC 9700 2.4), and there is no
authorization endpoint for the code grant.
"""

from __future__ import annotations

from typing import Any

from authlib.consts import default_json_headers
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749 import (
    ClientMixin,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
    grants,
)
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import Response, current_app
from flask import request as flask_request

from myapi.clock import epoch_seconds, utcnow
from myapi.http_policy import FORM_MIMETYPE
from myapi.logs import audit
from myapi.models import OAuthClient
from myapi.oauth.inspection import ActiveToken, Holder, active_token, introspection_claims
from myapi.oauth.ratelimits import basic_user, claimed_client_id
from myapi.oauth.schemas import CLIENT_SCOPE
from myapi.security.authentication import bearer_credential
from myapi.security.policy import REALM, bearer_challenge
from myapi.security.scopes import effective_scope, format_scope, parse_scope
from myapi.security.tokens import new_token_id, sign_token
from myapi.services.clients import (
    CLIENT_CREDENTIALS,
    PUBLIC,
    allowance_for,
    find_client,
    grants_of,
    secret_matches,
)
from myapi.services.sessions import end_token

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
GRANT_TYPES = ["client_credentials"]
BASIC_CHALLENGE = f'Basic realm="{REALM}"'
# An empty 200 (RFC 7009 2.2): nothing to parse, so no content type.
_NO_STORE = [header for header in default_json_headers if header[0] != "Content-Type"]
# For the errors Authlib raises without a fixed description (RFC 6749 5.2 makes it optional),
# and for invalid_client, whose description from Authlib lists the methods as a Python list.
_DESCRIPTIONS = {
    "unsupported_grant_type": "Only the client_credentials grant is offered.",
    "invalid_request": "The request is missing a parameter or is malformed.",
}
_CLIENT_AUTHENTICATION_FAILED = (
    "Client authentication failed: send the client id and secret with HTTP Basic "
    "or as client_id and client_secret in the form."
)


def one_client_authentication() -> None:
    """Refuse a request that authenticates in more than one way (RFC 6749 2.3: a client MUST
    NOT use more than one method per request).

    HTTP Basic plus a `client_secret` in the form, or plus a form `client_id` naming another
    client, or a bearer token plus a form secret: which one would count is a guess, and a
    guess lets one client's failures be charged to another (the per-client limit) or one
    credential ride on another. 400 `invalid_request`, before any credential is checked.
    """
    form = flask_request.form if flask_request.mimetype == FORM_MIMETYPE else {}
    in_header = basic_user() is not None or bearer_credential() is not None
    named_elsewhere = form.get("client_id") not in (None, basic_user())
    if in_header and ("client_secret" in form or named_elsewhere):
        raise InvalidRequestError(
            "Authenticate the client one way only: HTTP Basic or client_id and client_secret "
            "in the form, not both."
        )


class RegisteredClient(ClientMixin):
    """An `OAuthClient` row as Authlib sees it: confidential (a secret, Basic or post) or
    public (no secret: `none` is its only authentication method, PKCE its proof)."""

    def __init__(self, record: OAuthClient) -> None:
        self.record = record
        self.client_id = record.client_id

    def get_client_id(self) -> str:
        return self.client_id

    def check_client_secret(self, client_secret: str) -> bool:
        return secret_matches(self.record, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.record.client_type == PUBLIC:
            return method == "none"
        return method in CLIENT_AUTH_METHODS

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in grants_of(self.record)

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The requested scopes if all are granted (omitted: all allowed); None refuses.

        The grant is the one scope rule (`scopes.effective_scope`) against the client's
        allowance; asking for more than it allows is refused, never silently narrowed, and so
        is a scope that is not written as the document's `pattern` says (`CLIENT_SCOPE`).
        """
        if scope is not None and not CLIENT_SCOPE.matches(scope):
            return None
        allowance = allowance_for(self.record, CLIENT_CREDENTIALS)
        requested = parse_scope(scope) if scope is not None else allowance
        granted = effective_scope(requested, allowance)
        if not requested or granted != requested:
            return None
        return format_scope(granted)

    @property
    def scopes(self) -> set[str]:
        return parse_scope(self.record.scope)


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def validate_requested_scope(self) -> None:
        """A subset of the client's allowance, or invalid_scope (RFC 6749 4.4.2, 3.3)."""
        if self.client.get_allowed_scope(self.request.payload.scope) is None:
            raise InvalidScopeError("The requested scope exceeds what this client may hold.")


def issue_client_token(
    grant_type: str,
    client: RegisteredClient,
    user: Any = None,
    scope: str | None = None,
    expires_in: int | None = None,
    include_refresh_token: bool = False,
) -> dict[str, Any]:
    """Authlib's token generator: a signed JWT naming the client, and no refresh token.

    The token's `sid` is the client's current credential id, so rotating the secret or
    disabling the client revokes it.
    """
    record = client.record
    granted = client.get_allowed_scope(scope)
    lifetime = current_app.config["CLIENT_TOKEN_MINUTES"] * 60
    now = epoch_seconds(utcnow())
    jti = new_token_id()
    token = sign_token(
        {
            "sub": record.client_id,
            "client_id": record.client_id,
            "type": "access",
            "fresh": False,
            "jti": jti,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "sid": record.credential_id,
            "scope": granted,
            "aud": record.audience,
        }
    )
    audit("oauth_token_issued", client_id=record.client_id, scope=granted, jti=jti)
    return {"access_token": token, "token_type": "Bearer", "expires_in": lifetime, "scope": granted}


class InvalidBearerToken(OAuth2Error):
    """A bearer token that would not be accepted at any endpoint (RFC 6750 3.1)."""

    error = "invalid_token"
    status_code = 401
    description = "The bearer token is invalid, expired or revoked."

    def get_headers(self) -> list[tuple[str, str]]:
        return [*super().get_headers(), ("WWW-Authenticate", bearer_challenge("invalid_token"))]


class TokenRevocation(RevocationEndpoint):
    """RFC 7009, for clients (their own tokens) and for users with a bearer token (theirs).

    A token that is unknown, malformed, expired, already revoked or someone else's gets
    the same empty 200 and changes nothing (RFC 7009 2.2): the answer never tells a
    caller whether a token exists. The type hint is ignored: each kind of token is
    recognised by itself (RFC 7009 2.1 lets the server ignore it).
    """

    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def authenticate_endpoint_client(self, request: OAuth2Request) -> Holder:
        bearer = bearer_credential()
        if bearer is None:
            client = super().authenticate_endpoint_client(request)
            return Holder(client_id=client.client_id)
        caller = active_token(bearer)
        if caller is None or caller.principal.token_type != "access":
            raise InvalidBearerToken()
        return caller.holder

    def authenticate_token(self, request: OAuth2Request, caller: Holder) -> ActiveToken | None:
        if "token" not in request.form:
            raise InvalidRequestError("Missing 'token' parameter.")
        token = active_token(request.form["token"])
        return token if token is not None and token.holder == caller else None

    def revoke_token(self, token: ActiveToken, request: OAuth2Request) -> None:
        end_token(token.principal)

    def create_endpoint_response(self, request: OAuth2Request) -> tuple[int, str, list]:
        super().create_endpoint_response(request)
        return 200, "", _NO_STORE


class TokenIntrospection(IntrospectionEndpoint):
    """RFC 7662 for clients holding the `introspect` scope.

    An active token of any kind gets its claims; anything else gets exactly
    `{"active": false}`, with no hint of why (RFC 7662 2.2, 4). An authenticated client
    without the `introspect` scope gets 403 `unauthorized_client`: its credentials are
    fine, so 401 `invalid_client` would send its operator after the wrong problem.
    """

    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def authenticate_endpoint_client(self, request: OAuth2Request) -> RegisteredClient:
        client = super().authenticate_endpoint_client(request)
        if "introspect" not in client.scopes:
            raise UnauthorizedClientError(
                "This client may not introspect tokens: it lacks the introspect scope.",
                status_code=403,
            )
        return client

    def authenticate_token(
        self, request: OAuth2Request, client: RegisteredClient
    ) -> ActiveToken | None:
        if "token" not in request.form:
            raise InvalidRequestError("Missing 'token' parameter.")
        return active_token(request.form["token"])

    def create_introspection_payload(self, token: ActiveToken | None) -> dict[str, Any]:
        return {"active": False} if token is None else introspection_claims(token)


class ClientCredentialsServer(AuthorizationServer):
    """Authlib's Flask authorization server, configured for this service and no other app
    state: it reads the current app's settings when a request needs them."""

    def __init__(self) -> None:
        super().__init__()
        self.register_token_generator("default", issue_client_token)
        self.register_grant(ClientCredentialsGrant)
        self.register_endpoint(TokenRevocation)
        self.register_endpoint(TokenIntrospection)

    def query_client(self, client_id: str) -> RegisteredClient | None:
        """An active client only: a disabled one fails authentication like an unknown one."""
        record = find_client(client_id)
        return RegisteredClient(record) if record is not None and record.is_active else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Nothing to store: the token is a signed JWT, revocable by `jti` and credential."""

    def get_token_grant(self, request: OAuth2Request) -> Any:
        """A missing grant type is a malformed request (invalid_request), not an unknown one.

        Raised outside Authlib's own error handling; the blueprint's handler answers it.
        """
        if not request.payload.grant_type:
            raise InvalidRequestError("Missing 'grant_type' parameter.")
        return super().get_token_grant(request)

    def handle_response(self, status: int, payload: Any, headers: list) -> Response:
        response = super().handle_response(status, payload, headers)
        if payload == "":
            response.headers.remove("Content-Type")
        return response

    def handle_error_response(self, request: OAuth2Request | None, error: OAuth2Error) -> Response:
        """RFC 6749 5.2 JSON; any client-authentication failure is a 401 with a Basic challenge."""
        status, body, headers = error()
        body.setdefault("error_description", _DESCRIPTIONS.get(error.error, "Request refused."))
        if error.error == "invalid_client":
            body["error_description"] = _CLIENT_AUTHENTICATION_FAILED
            status = 401
            headers = [header for header in headers if header[0] != "WWW-Authenticate"]
            headers.append(("WWW-Authenticate", BASIC_CHALLENGE))
        audit(
            "oauth_request_refused",
            endpoint=flask_request.path,
            error=error.error,
            client_id=claimed_client_id(),
        )
        return self.handle_response(status, body, headers)


authorization_server = ClientCredentialsServer()
