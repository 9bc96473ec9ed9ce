"""The OAuth 2 authorization server, built on Authlib: client credentials, the authorization
code grant with PKCE and refresh tokens for third-party apps, RFC 7009, RFC 7662.

Authlib does the protocol: parsing the form, client authentication (HTTP Basic,
`client_secret_post`, or `none` for a public app), grant dispatch, PKCE, scope and error
handling. This module supplies our parts: the client records (`RegisteredClient`), the
tokens (`issue_client_token`, and an app's grant from `services.delegation`, signed by
`tokens.sign_token` like every other token), and what revoking or introspecting a token
means here (`myapi.oauth.inspection`).

Token endpoint errors are RFC 6749 5.2 JSON (`{"error", "error_description"}`), not
problem+json: OAuth clients parse that shape. Every client-authentication failure is a 401
with a Basic challenge, whichever method the client tried. An authorization request's
error goes back to the app as RFC 6749 4.1.2.1 parameters (with `iss`, RFC 9207) only once
the client and its redirect URI are known to be valid; otherwise it is an error page
(`myapi.oauth.authorize`). The password grant is not offered (RFC 9700 2.4); neither is
the implicit grant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar

from authlib.common.urls import add_params_to_uri
from authlib.consts import default_json_headers
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749 import (
    AccessDeniedError,
    ClientMixin,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
    grants,
)
from authlib.oauth2.rfc6749.hooks import hooked
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import AuthorizationCodeMixin as OpenIDAuthorizationCodeMixin
from authlib.oidc.core import OpenIDCode, UserInfo
from authlib.oidc.core.grants.util import is_openid_scope
from flask import Response, current_app
from flask import request as flask_request
from joserfc.jwk import ECKey, OKPKey, RSAKey

from myapi.clock import epoch_seconds, utcnow
from myapi.http_policy import FORM_MIMETYPE
from myapi.logs import audit
from myapi.models import CLIENT_ID_FORMAT, AuthorizationCode, OAuthClient, User
from myapi.oauth.inspection import ActiveToken, Holder, active_token, introspection_claims
from myapi.oauth.ratelimits import basic_user, claimed_client_id
from myapi.oauth.schemas import CLIENT_SCOPE
from myapi.security import key_ring
from myapi.security.authentication import TokenRejected, bearer_credential
from myapi.security.policy import REALM, bearer_challenge
from myapi.security.principal import Account, Kind, Principal
from myapi.security.redirect_uris import redirect_uri_matches
from myapi.security.scopes import effective_scope, format_scope, parse_scope
from myapi.security.tokens import TokenPair, new_token_id, sign_token
from myapi.services import delegation
from myapi.services.clients import (
    AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS,
    PUBLIC,
    REFRESH_TOKEN,
    allowance_for,
    find_client,
    grants_of,
    redirect_uris_of,
    secret_matches,
)
from myapi.services.sessions import Device, end_token, rotate

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
#: A public app does not authenticate at the token endpoint: PKCE is its proof.
APP_AUTH_METHODS = [*CLIENT_AUTH_METHODS, "none"]
GRANT_TYPES = [CLIENT_CREDENTIALS, AUTHORIZATION_CODE, REFRESH_TOKEN]
PROMPTS = frozenset({"none", "login", "consent"})
_NONCE = re.compile(r"[\x20-\x7e]{1,255}")
BASIC_CHALLENGE = f'Basic realm="{REALM}"'
# An empty 200 (RFC 7009 2.2): nothing to parse, so no content type.
_NO_STORE = [header for header in default_json_headers if header[0] != "Content-Type"]
# For the errors Authlib raises without a fixed description (RFC 6749 5.2 makes it optional),
# and for invalid_client, whose description from Authlib lists the methods as a Python list.
_DESCRIPTIONS = {
    "unsupported_grant_type": "Offered grants: " + ", ".join(GRANT_TYPES) + ".",
    "invalid_request": "The request is missing a parameter or is malformed.",
    "invalid_grant": "The code or refresh token is invalid, expired, spent or revoked.",
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

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and AUTHORIZATION_CODE in grants_of(self.record)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Exactly a registered URI, as a string (a loopback one on any port)."""
        return any(redirect_uri_matches(redirect_uri, uri) for uri in redirect_uris_of(self.record))

    def get_default_redirect_uri(self) -> str | None:
        """None: every authorization request names its redirect URI."""
        return None

    def app_scope(self, scope: str | None) -> str | None:
        """What an authorization request may ask for: within the app's allowance, or None.

        Omitted, it is the whole allowance. Asking for more is refused (invalid_scope),
        never silently narrowed.
        """
        allowance = allowance_for(self.record, AUTHORIZATION_CODE)
        requested = parse_scope(scope) if scope is not None else allowance
        granted = effective_scope(requested, allowance)
        if not requested or granted != requested:
            return None
        return format_scope(granted)

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The client credentials grant: the requested scopes if all are granted (omitted:
        all allowed); None refuses.

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


class RequiredS256(CodeChallenge):
    """PKCE for every client, S256 only (RFC 9700 2.1.1): a request without a challenge,
    or with `plain` (or no method, which means plain), is refused at the authorization
    endpoint; the token endpoint then always demands the verifier."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        payload = grant.request.payload.data
        if not payload.get("code_challenge"):
            raise InvalidRequestError(
                "PKCE is required: send code_challenge with code_challenge_method=S256."
            )
        if payload.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256; plain is refused.")
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code: Any) -> str:
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: Any) -> str:
        return "S256"


@dataclass(frozen=True)
class Authorization:
    """The user's decision, for the authorization response: who, since when, what scope."""

    user: User
    auth_time: datetime
    scope: str


def requested_client_id() -> str | None:
    """The client id an authorization request names (query or form), if it has the shape
    of one: what its audit events may say without echoing anything else."""
    named = flask_request.values.get("client_id")
    return named if named and CLIENT_ID_FORMAT.fullmatch(named) else None


def issuer() -> str:
    return current_app.config["JWT_ISSUER"]


def _token_response(pair: TokenPair) -> dict[str, Any]:
    return {
        "access_token": pair.access_token,
        "token_type": "Bearer",
        "expires_in": pair.expires_in,
        "refresh_token": pair.refresh_token,
        "scope": pair.scope,
    }


@dataclass(frozen=True)
class IssuedCode(OpenIDAuthorizationCodeMixin):
    """A stored authorization code as Authlib's grant, PKCE and OpenID extensions read it."""

    row: AuthorizationCode

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int:
        return epoch_seconds(self.row.auth_time)

    @property
    def code_challenge(self) -> str:
        return self.row.code_challenge


class AppAuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """The authorization code grant for third-party apps (RFC 6749 4.1, RFC 9700).

    Authlib checks the token request (client authentication, the code's client and
    redirect URI, PKCE through `RequiredS256`); `services.delegation` keeps the codes
    and opens the grant.
    """

    TOKEN_ENDPOINT_AUTH_METHODS = APP_AUTH_METHODS

    def validate_authorization_request(self) -> str:
        """Client and redirect URI first: until both are valid, nothing may redirect.

        Then every other problem goes back to the app as an error on its redirect URI:
        response type, scope, PKCE, prompt.
        """
        request = self.request
        client = self.server.query_client(request.payload.client_id or "")
        if client is None:
            raise InvalidClientError(description="Unknown or disabled client.")
        redirect_uri = request.payload.redirect_uri
        if not redirect_uri or not client.check_redirect_uri(redirect_uri):
            raise InvalidRequestError("The redirect_uri is missing or not registered.")
        request.client = client
        try:
            if not client.check_response_type(request.payload.response_type):
                raise UnauthorizedClientError("This client may not use response_type=code.")
            scope = client.app_scope(request.payload.scope)
            if scope is None:
                raise InvalidScopeError("The requested scope exceeds what this app may ask for.")
            request.scope = scope
            _validate_prompt(request.payload.data.get("prompt"))
            _validate_nonce(request.payload.data.get("nonce"))
            self.execute_hook("after_validate_authorization_request_payload", redirect_uri)
        except OAuth2Error as error:
            error.redirect_uri = redirect_uri
            raise
        return redirect_uri

    def create_authorization_response(
        self, redirect_uri: str, grant_user: Authorization | None
    ) -> tuple[int, str, list]:
        """The code (and `state`, `iss`) on the redirect URI; access_denied without a user."""
        if grant_user is None:
            raise AccessDeniedError(redirect_uri=redirect_uri)
        payload = self.request.payload
        code = delegation.issue_code(
            self.request.client.record,
            grant_user.user,
            redirect_uri=redirect_uri,
            scope=grant_user.scope,
            nonce=payload.data.get("nonce"),
            code_challenge=payload.data["code_challenge"],
            auth_time=grant_user.auth_time,
        )
        params = [("code", code)]
        if payload.state:
            params.append(("state", payload.state))
        params.append(("iss", issuer()))
        return 302, "", [("Location", add_params_to_uri(redirect_uri, params))]

    def query_authorization_code(self, code: str, client: RegisteredClient) -> IssuedCode | None:
        row = delegation.find_code(code, client.client_id)
        return IssuedCode(row) if row is not None else None

    def delete_authorization_code(self, authorization_code: Any) -> None:
        """Nothing: `delegation.exchange_code` spends the code with the grant it opens."""

    def authenticate_user(self, authorization_code: Any) -> Any:
        return authorization_code

    @hooked
    def create_token_response(self) -> tuple[int, dict[str, Any], list]:
        """The app's pair; with `openid`, `IdToken` adds the ID token (an `after` hook)."""
        row = self.request.authorization_code.row
        try:
            pair = delegation.exchange_code(
                row, self.request.client.record, Device.of(flask_request)
            )
        except delegation.GrantRefused:
            raise InvalidGrantError("The code is invalid, expired or already used.") from None
        self.request.user = delegation.code_user(row)
        token = _token_response(pair)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


def user_info(user: User | Account, scope: str) -> UserInfo:
    """What `openid`, `profile` and `email` tell an app about the user (ID token, userinfo).

    `sub` is the user id, the same in every app's view (public subject identifiers). The
    email is the account's; myapi does not verify emails, so `email_verified` is not claimed.
    """
    scopes = parse_scope(scope)
    claims = UserInfo(sub=str(user.id))
    if "profile" in scopes:
        claims["preferred_username"] = user.username
    if "email" in scopes:
        claims["email"] = user.email
    return claims


class IdToken(OpenIDCode):
    """OpenID Connect for the code grant, through Authlib: with `openid` in the grant's
    scope the token response gains an ID token (`iss`, `sub`, `aud` = the app, `exp`,
    `iat`, `auth_time`, `nonce`, `at_hash`), signed with the current asymmetric key and
    named by `kid`, so an app verifies it from the JWKS. Apps are refused `openid` in
    shared-secret mode (`services.clients.client_scope`).

    Authlib's `prompt` handling is not registered: the pages decide `prompt`
    (`oauth.authorize`), after the sign-in cookie is read.
    """

    def __call__(self, grant: Any) -> None:
        grant.register_hook("after_create_token_response", self.process_token)
        if is_openid_scope(grant.request.payload.scope):
            grant.register_hook(
                "after_validate_authorization_request_payload",
                self.validate_openid_authorization_request,
            )

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        """A nonce this app already used is refused: it would make ID tokens replayable."""
        return delegation.nonce_used(request.payload.client_id, nonce)

    def get_client_algorithm(self, client: RegisteredClient) -> str:
        return key_ring.signing_key().algorithm

    def get_encode_header(self, client: RegisteredClient) -> dict[str, str]:
        signer = key_ring.signing_key()
        return {"alg": signer.algorithm, "kid": signer.kid, "typ": "JWT"}

    def resolve_client_private_key(self, client: RegisteredClient) -> Any:
        signer = key_ring.signing_key()
        return _JOSE_KEYS[signer.algorithm].import_key(signer.private_key)

    def get_client_claims(self, client: RegisteredClient) -> dict[str, Any]:
        now = epoch_seconds(utcnow())
        lifetime = current_app.config["ACCESS_TOKEN_MINUTES"] * 60
        return {"iss": issuer(), "aud": client.client_id, "iat": now, "exp": now + lifetime}

    def generate_user_info(self, user: User, scope: str) -> UserInfo:
        return user_info(user, scope)


_JOSE_KEYS = {"ES256": ECKey, "RS256": RSAKey, "EdDSA": OKPKey}


def _validate_nonce(nonce: str | None) -> None:
    """1-255 printable ASCII characters: it is stored with the code and echoed in the ID token."""
    if nonce is not None and not _NONCE.fullmatch(nonce):
        raise InvalidRequestError("nonce is 1-255 printable ASCII characters.")


def _validate_prompt(prompt: str | None) -> None:
    """`none`, `login` and `consent` (OpenID Connect Core 3.1.2.1); `none` stands alone."""
    if prompt is None:
        return
    values = set(prompt.split())
    if not values or not values <= PROMPTS or ("none" in values and len(values) > 1):
        raise InvalidRequestError("prompt is none, or login and/or consent.")


@dataclass(frozen=True)
class AppRefreshToken:
    """A live refresh token of an app's grant, as Authlib's refresh grant handles it."""

    principal: Principal

    def check_client(self, client: RegisteredClient) -> bool:
        return self.principal.client_id == client.client_id

    def get_scope(self) -> str:
        return self.principal.scope


class AppRefreshTokenGrant(grants.RefreshTokenGrant):
    """Refresh for an app's grant: the same rotation, grace window and reuse detection as a
    user's session (`sessions.rotate`). A reused refresh token ends the grant's family.

    The new pair's scope is the one scope rule applied again: the grant's scope narrowed
    to what the user's role and the app's allowance permit now (and to a narrower `scope`
    if the app asks for one; a wider one is invalid_scope).
    """

    TOKEN_ENDPOINT_AUTH_METHODS = APP_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> AppRefreshToken | None:
        found = active_token(refresh_token)
        if found is None:
            return None
        principal = found.principal
        if principal.kind is not Kind.DELEGATED or principal.token_type != "refresh":
            return None
        return AppRefreshToken(principal)

    def authenticate_user(self, refresh_token: AppRefreshToken) -> Any:
        return refresh_token.principal.account

    def create_token_response(self) -> tuple[int, dict[str, Any], list]:
        principal = self.request.refresh_token.principal
        scopes = effective_scope(
            principal.scopes, allowance_for(self.request.client.record, REFRESH_TOKEN)
        )
        if self.request.payload.scope:
            scopes = effective_scope(scopes, parse_scope(self.request.payload.scope))
        if not scopes:
            raise InvalidScopeError("Nothing of this grant's scope may be held now.")
        try:
            pair = rotate(replace(principal, scopes=scopes))
        except TokenRejected:
            raise InvalidGrantError("The refresh token is invalid, spent or revoked.") from None
        token = _token_response(pair)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


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
    """RFC 7009, for clients (their own tokens, a public app with its `client_id` alone) and
    for users with a bearer token (theirs).

    A token that is unknown, malformed, expired, already revoked or someone else's gets
    the same empty 200 and changes nothing (RFC 7009 2.2): the answer never tells a
    caller whether a token exists. The type hint is ignored: each kind of token is
    recognised by itself (RFC 7009 2.1 lets the server ignore it).
    """

    CLIENT_AUTH_METHODS = APP_AUTH_METHODS

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
        return token if token is not None and token.revocable_by(caller) else None

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


class OAuthServer(AuthorizationServer):
    """Authlib's Flask authorization server, configured for this service and no other app
    state: it reads the current app's settings when a request needs them."""

    def __init__(self) -> None:
        super().__init__()
        self.register_token_generator("default", issue_client_token)
        self.register_grant(ClientCredentialsGrant)
        self.register_grant(AppAuthorizationCodeGrant, [RequiredS256(required=True), IdToken()])
        self.register_grant(AppRefreshTokenGrant)
        self.register_endpoint(TokenRevocation)
        self.register_endpoint(TokenIntrospection)

    def authenticate_client(
        self, request: OAuth2Request, methods: list[str], endpoint: str = "token"
    ) -> RegisteredClient:
        """A request carrying a secret (HTTP Basic, or `client_secret` in the form, even
        empty) must authenticate with it: `none` is only for a request that sends none."""
        if "none" in methods and (basic_user() is not None or "client_secret" in request.form):
            methods = [method for method in methods if method != "none"]
        return super().authenticate_client(request, methods, endpoint)

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
        """RFC 6749 5.2 JSON; any client-authentication failure is a 401 with a Basic challenge.

        An authorization request's error with a validated redirect URI goes back to the app
        (RFC 6749 4.1.2.1) with `iss` (RFC 9207).
        """
        if error.redirect_uri:
            params = [*error.get_body(), ("iss", issuer())]
            audit("oauth_authorization_refused", error=error.error, client_id=requested_client_id())
            return self.handle_response(
                302, "", [("Location", add_params_to_uri(error.redirect_uri, params))]
            )
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


authorization_server = OAuthServer()
