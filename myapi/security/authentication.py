"""Authentication: the request's bearer credential becomes its one `Principal`.

Two kinds of credential arrive as `Authorization: Bearer`:

- a JWT this service issued (a session's access or refresh token, an OAuth client's
  token), verified by flask-jwt-extended (`verify_jwt_in_request`); its blocklist loader
  (`check_revocation`) reads the holder's state in one round trip and builds the
  principal from the claims and that state;
- a personal access token (`myapi_pat_...`), which is no JWT: it is looked up by its hash,
  with its owner, in one query.

Either way the principal's scopes are `scopes.effective_scope` of what the credential was
granted and what its holder may hold now, and the principal is kept in the request's one
slot (`principal.keep_principal`).

Rate limits count per caller, so the caller is identified before the limiter runs
(`identify_caller`): for an endpoint that needs a token, the JWT is decoded (once: the
view's verification reuses the decode) and its revocation keys are staged to be read in
the limiter's own Redis round trip; a personal access token is looked up right away.
Nothing is refused there: a credential that fails is counted per address, and the
view's authentication gives the answer.
"""

from __future__ import annotations

from typing import Any

import jwt
from flask import current_app, request
from flask_jwt_extended import decode_token, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException

from myapi.clock import epoch_seconds, utcnow
from myapi.logs import audit
from myapi.ratelimits import count_caller_as
from myapi.security import personal_tokens
from myapi.security.principal import Kind, Principal, current_principal, keep_principal
from myapi.security.revocation import (
    ClientTokenRef,
    SessionTokenRef,
    TokenRef,
    revocation_store,
    user_holder,
)
from myapi.security.scopes import (
    delegated_allowance,
    effective_scope,
    parse_scope,
    role_allowance,
)
from myapi.security.tokens import claims_are_well_formed, token_kind

#: Marks a view that needs a bearer token (set by the decorators in `security.authorization`).
REQUIRES_TOKEN = "requires_token"
_PENDING = "myapi.pending_principal"
# Kept on the request (not `g`, which an app context can carry across requests).
_FROM_COOKIE = "myapi.credential_from_cookie"
ACCESS = "access"
_PERSONAL = "myapi.personal_token_outcome"


class TokenRejected(Exception):
    """A presented token is not accepted; `reason` goes to the audit log only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def present_cookie_credential(token: str) -> None:
    """Present a token the browser-mode cookie carried as this request's bearer token (called
    by `auth.browser` once the CSRF value matched), remembering where it came from."""
    request.environ[_FROM_COOKIE] = True
    request.environ["HTTP_AUTHORIZATION"] = "Bearer " + token


def credential_from_cookie() -> bool:
    """This request's bearer token is the browser-mode refresh cookie."""
    return request.environ.get(_FROM_COOKIE, False)


def bearer_credential() -> str | None:
    """The token of `Authorization: Bearer` (the scheme is normalised by the token policy)."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() if scheme == "Bearer" else None


def token_ref(claims: dict[str, Any]) -> TokenRef:
    """Whose token this is and which session or credential it belongs to.

    Only for claims `tokens.claims_are_well_formed` accepted: it reads them without checking.
    """
    if token_kind(claims) is Kind.CLIENT:
        return ClientTokenRef(claims["client_id"], claims["sid"], claims["jti"])
    # A user's session, or an app's grant from that user: the same revocation state.
    return SessionTokenRef(int(claims["sub"]), claims["sid"], claims["jti"])


def is_fresh(claims: dict[str, Any]) -> bool:
    """Fresh = issued by a password login within FRESH_LOGIN_MINUTES, never by a refresh."""
    window = current_app.config["FRESH_LOGIN_MINUTES"] * 60
    return claims.get("fresh") is True and utcnow().timestamp() - claims["iat"] <= window


def principal_for_claims(claims: dict[str, Any]) -> Principal | None:
    """The principal of a verified, well-formed JWT, if its holder's state lets it live."""
    ref = token_ref(claims)
    state = revocation_store().state(ref)
    if state is None or not state.live:
        return None
    common = {
        "token_type": claims["type"],
        "fresh": is_fresh(claims),
        "token_id": claims["jti"],
        "issued_at": claims["iat"],
        "expires_at": claims["exp"],
    }
    if isinstance(ref, ClientTokenRef):
        scopes = effective_scope(claims["scope"], parse_scope(state.client_scope))
        return Principal(
            Kind.CLIENT,
            user_id=None,
            client_id=ref.client_id,
            scopes=scopes,
            session_id=None,
            **common,
        )
    account = state.account
    assert account is not None
    if token_kind(claims) is Kind.DELEGATED:
        return Principal(
            Kind.DELEGATED,
            user_id=ref.user_id,
            client_id=claims["client_id"],
            scopes=effective_scope(claims["scope"], delegated_allowance(account.role)),
            session_id=ref.session_id,
            account=account,
            **common,
        )
    scopes = effective_scope(claims["scope"], role_allowance(account.role))
    return Principal(
        Kind.SESSION,
        user_id=ref.user_id,
        client_id=None,
        scopes=scopes,
        session_id=ref.session_id,
        account=account,
        **common,
    )


def check_revocation(_header: dict[str, Any], claims: dict[str, Any]) -> bool:
    """flask-jwt-extended's blocklist loader: revoked unless the holder's state lets it live.

    The library calls it first after the signature, before any other loader, so it is also
    where claims of a shape this service never issues are refused (`bad_claims`): the state
    is looked up only for a well-formed holder. The principal it builds is kept aside until
    every other check has passed (`authenticate` then makes it the request's principal).
    """
    if not claims_are_well_formed(claims):
        raise TokenRejected("bad_claims")
    principal = principal_for_claims(claims)
    request.environ[_PENDING] = principal
    return principal is None


def _personal_principal(token: str) -> Principal:
    """A personal access token's principal, or TokenRejected; its use is noted for the log."""
    outcome = request.environ.get(_PERSONAL)
    if outcome is None or outcome[0] != token:
        outcome = (token, _look_up_personal_token(token))
        request.environ[_PERSONAL] = outcome
    result = outcome[1]
    if isinstance(result, TokenRejected):
        raise result
    return result


def _look_up_personal_token(token: str) -> Principal | TokenRejected:
    found = personal_tokens.look_up(token)
    if found is None:
        return TokenRejected("malformed")
    refusal = found.refusal()
    if refusal is not None:
        audit(
            "personal_token_refused",
            user_id=found.account.id,
            token_id=found.id,
            reason=refusal,
        )
        return TokenRejected("revoked")
    personal_tokens.note_use(found)
    return Principal(
        Kind.PERSONAL,
        token_type=ACCESS,
        user_id=found.account.id,
        client_id=None,
        scopes=effective_scope(found.scope, role_allowance(found.account.role)),
        fresh=False,
        session_id=None,
        token_id=personal_tokens.token_id_of(found.id),
        issued_at=epoch_seconds(found.created_at),
        expires_at=epoch_seconds(found.expires_at),
        account=found.account,
    )


def authenticate(*, refresh: bool) -> Principal:
    """The request's principal, authenticated once; raises the error its answer is made from.

    `refresh=True` admits a session's refresh token only (for `/auth/refresh`);
    otherwise only access tokens and personal access tokens are admitted.
    """
    principal = current_principal()
    if principal is not None:
        return principal
    token = bearer_credential()
    if token is not None and personal_tokens.is_personal_token(token):
        if refresh:
            raise TokenRejected("malformed")
        principal = _personal_principal(token)
    else:
        verify_jwt_in_request(refresh=refresh)
        principal = request.environ.pop(_PENDING)
    keep_principal(principal)
    return principal


def _view_requires_token() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        method = request.method.lower()
        view = getattr(view_class, "get" if method == "head" else method, None)
    return getattr(view, REQUIRES_TOKEN, False)


def identify_caller() -> None:
    """Before the rate limiter: name the caller its counters are kept for, and stage the
    revocation read so the limiter's round trip answers it too."""
    if not _view_requires_token():
        return
    token = bearer_credential()
    if token is None:
        return
    if personal_tokens.is_personal_token(token):
        try:
            principal = _personal_principal(token)
        except TokenRejected:
            return
        count_caller_as(user_holder(principal.user_id))
        return
    try:
        claims = decode_token(token)
    except (jwt.PyJWTError, JWTExtendedException):
        return
    if claims_are_well_formed(claims):
        ref = token_ref(claims)
        revocation_store().stage(ref)
        count_caller_as(ref.holder)


def inspect_token(token: str) -> tuple[Principal, dict[str, Any] | None] | None:
    """Any token handed to the OAuth endpoints: its principal (and a JWT's claims) when it
    passes exactly the checks a bearer request makes, else None.

    Refresh tokens are inspected too (introspection reports them, revocation ends them).
    """
    if personal_tokens.is_personal_token(token):
        try:
            return _personal_principal(token), None
        except TokenRejected:
            return None
    try:
        claims = decode_token(token)
    except (jwt.PyJWTError, JWTExtendedException):
        return None
    if not claims_are_well_formed(claims):
        return None
    principal = principal_for_claims(claims)
    return (principal, claims) if principal is not None else None
