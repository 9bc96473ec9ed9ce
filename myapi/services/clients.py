"""OAuth clients: register, rotate the secret, change scope, redirect URIs or status, delete.

A client is confidential (it has a secret) or public (a native or browser app, no
secret: PKCE is its proof). Its grants say what it does: `client_credentials` (a service
acting for itself) and `authorization_code` (an app acting for users who consent; it is
also given refresh tokens). An app's redirect URIs follow `security.redirect_uris`.

A client secret is `myapi_cs_` and 32 random bytes, stored only as SHA-256
(`security.opaque_tokens` says why that is enough).

Every token a client gets carries the client's current `credential_id` as `sid`.
Rotating the secret or disabling the client gives it a new one, so all its tokens die
at once (the revocation store compares them on every request), and enabling it again
revives none.
"""

from __future__ import annotations

import re
import secrets

from flask import current_app
from sqlalchemy import select

from myapi.clock import utcnow
from myapi.extensions import db
from myapi.models import AuthSession, OAuthClient
from myapi.security.opaque_tokens import new_opaque_token, opaque_token_hash, opaque_token_matches
from myapi.security.redirect_uris import RedirectUriError, check_redirect_uri
from myapi.security.revocation import client_holder, revoke_sessions
from myapi.security.scopes import CLIENT_SCOPES, DELEGATED_SCOPES, format_scope, parse_scope
from myapi.services.transactions import holder_changed, unit_of_work

SECRET_PREFIX = "myapi_cs_"
CLIENT_ID_PREFIX = "client_"
_AUDIENCE = re.compile(r"[\x21-\x7e]{1,255}")
_NAME_LENGTH = 100
CONFIDENTIAL, PUBLIC = "confidential", "public"
CLIENT_TYPES = (CONFIDENTIAL, PUBLIC)
CLIENT_CREDENTIALS, AUTHORIZATION_CODE, REFRESH_TOKEN = (
    "client_credentials",
    "authorization_code",
    "refresh_token",
)
GRANTS = (AUTHORIZATION_CODE, CLIENT_CREDENTIALS)
#: What a client may hold under each of its grants.
GRANT_SCOPES = {CLIENT_CREDENTIALS: CLIENT_SCOPES, AUTHORIZATION_CODE: DELEGATED_SCOPES}
_MAX_REDIRECT_URIS = 10


class ClientRuleError(ValueError):
    """A client setting breaks a rule; the message says which, for the operator."""


def secret_matches(client: OAuthClient, secret: str) -> bool:
    """A public client has no secret: its empty hash matches nothing."""
    return bool(client.secret_hash) and opaque_token_matches(secret, client.secret_hash)


def grants_of(client: OAuthClient) -> frozenset[str]:
    """The grant types the client may use; an app using the code grant may also refresh."""
    grants = frozenset(client.grant_types.split())
    return grants | {REFRESH_TOKEN} if AUTHORIZATION_CODE in grants else grants


def redirect_uris_of(client: OAuthClient) -> list[str]:
    return client.redirect_uris.split()


def allowance_for(client: OAuthClient, grant: str) -> frozenset[str]:
    """What the client may hold under `grant`: its scope, narrowed to what that grant gives."""
    if grant not in grants_of(client):
        return frozenset()
    holdable = GRANT_SCOPES[AUTHORIZATION_CODE if grant == REFRESH_TOKEN else grant]
    return parse_scope(client.scope) & frozenset(holdable)


def client_scope(text: str, grants: tuple[str, ...] = (CLIENT_CREDENTIALS,)) -> str:
    """The scopes a client may be allowed, normalised; at least one, each holdable under one
    of its grants. `openid` needs asymmetric signing keys: an ID token is verified from the
    JWKS by the app, never with a secret it would have to share."""
    requested = parse_scope(text)
    if not requested:
        raise ClientRuleError("name at least one scope")
    holdable = {scope for grant in grants for scope in GRANT_SCOPES.get(grant, ())}
    refused = requested - holdable
    if refused:
        raise ClientRuleError(
            f"clients with grants {' '.join(sorted(grants))} cannot hold "
            f"{' '.join(sorted(refused))}; they may hold {format_scope(holdable)}"
        )
    if "openid" in requested and current_app.config["TOKEN_SIGNING"] != "keys":
        raise ClientRuleError(
            "openid needs TOKEN_SIGNING=keys: ID tokens are signed with the asymmetric keys "
            "apps verify from the JWKS, never with the shared secret"
        )
    return format_scope(requested)


def _client_type(text: str) -> str:
    if text not in CLIENT_TYPES:
        raise ClientRuleError(f"the client type is one of {', '.join(CLIENT_TYPES)}")
    return text


def _grants(client_type: str, grants: tuple[str, ...]) -> tuple[str, ...]:
    chosen = tuple(grant for grant in GRANTS if grant in grants)
    unknown = set(grants) - set(GRANTS)
    if unknown or not chosen:
        raise ClientRuleError(f"grants are one or more of {', '.join(GRANTS)}")
    if client_type == PUBLIC and CLIENT_CREDENTIALS in chosen:
        raise ClientRuleError("a public client has no secret, so no client_credentials grant")
    return chosen


def _redirect_uris(uris: tuple[str, ...] | list[str], grants: tuple[str, ...]) -> str:
    """The registered redirect URIs, one per line; an app using the code grant needs one."""
    try:
        checked = list(dict.fromkeys(check_redirect_uri(uri) for uri in uris))
    except RedirectUriError as error:
        raise ClientRuleError(str(error)) from None
    if AUTHORIZATION_CODE in grants and not checked:
        raise ClientRuleError("an app using the authorization_code grant needs a redirect URI")
    if AUTHORIZATION_CODE not in grants and checked:
        raise ClientRuleError("redirect URIs are only for the authorization_code grant")
    if len(checked) > _MAX_REDIRECT_URIS:
        raise ClientRuleError(f"register at most {_MAX_REDIRECT_URIS} redirect URIs")
    return "\n".join(checked)


def _audience(text: str | None) -> str:
    """The `aud` of the client's tokens: this API's own audience unless another is named."""
    if text is None:
        return current_app.config["JWT_AUDIENCE"]
    if not _AUDIENCE.fullmatch(text):
        raise ClientRuleError("the audience must be 1-255 printable characters without spaces")
    return text


def _name(text: str) -> str:
    name = text.strip()
    if not name or len(name) > _NAME_LENGTH or "\x00" in name:
        raise ClientRuleError(f"the name must be 1-{_NAME_LENGTH} characters")
    return name


def _new_secret() -> str:
    return new_opaque_token(SECRET_PREFIX)


def _new_credential_id() -> str:
    return secrets.token_hex(16)


def find_client(client_id: str) -> OAuthClient | None:
    """By client id; an id that cannot exist is not looked up (PostgreSQL refuses NULs)."""
    if not client_id.startswith(CLIENT_ID_PREFIX) or "\x00" in client_id:
        return None
    return db.session.get(OAuthClient, client_id)


def list_clients() -> list[OAuthClient]:
    return list(db.session.scalars(select(OAuthClient).order_by(OAuthClient.created_at)))


def create_client(
    name: str,
    scope: str,
    audience: str | None = None,
    *,
    client_type: str = CONFIDENTIAL,
    grants: tuple[str, ...] = (CLIENT_CREDENTIALS,),
    redirect_uris: tuple[str, ...] = (),
) -> tuple[OAuthClient, str | None]:
    """Register a client; returns it with its secret (None for a public client), which is
    never stored nor shown again."""
    client_type = _client_type(client_type)
    chosen = _grants(client_type, grants)
    secret = _new_secret() if client_type == CONFIDENTIAL else None
    client = OAuthClient(
        client_id=CLIENT_ID_PREFIX + secrets.token_hex(12),
        secret_hash=opaque_token_hash(secret) if secret is not None else "",
        credential_id=_new_credential_id(),
        name=_name(name),
        scope=client_scope(scope, chosen),
        audience=_audience(audience),
        client_type=client_type,
        grant_types=" ".join(chosen),
        redirect_uris=_redirect_uris(redirect_uris, chosen),
    )
    with unit_of_work() as work:
        db.session.add(client)
        work.audit(
            "oauth_client_created",
            client_id=client.client_id,
            client_type=client.client_type,
            grants=client.grant_types,
            scope=client.scope,
            audience=client.audience,
        )
    return client, secret


def set_redirect_uris(client: OAuthClient, uris: tuple[str, ...] | list[str]) -> None:
    """Replace the registered redirect URIs; requests naming a removed one stop redirecting."""
    registered = _redirect_uris(uris, tuple(client.grant_types.split()))
    with unit_of_work() as work:
        client.redirect_uris = registered
        work.audit(
            "oauth_client_redirect_uris_changed",
            client_id=client.client_id,
            redirect_uris=redirect_uris_of(client),
        )


def _end_delegated_grants(client_id: str) -> int:
    """Every user's grant to this app, with all their tokens, at once."""
    return revoke_sessions(AuthSession.client_id == client_id)


def rotate_secret(client: OAuthClient) -> str:
    """A new secret and credential: the old secret stops working and every token dies."""
    if client.client_type == PUBLIC:
        raise ClientRuleError("a public client has no secret to rotate")
    secret = _new_secret()
    with unit_of_work() as work:
        client.secret_hash = opaque_token_hash(secret)
        client.credential_id = _new_credential_id()
        client.secret_rotated_at = utcnow()
        holder_changed(work, client_holder(client.client_id))
        work.audit("oauth_client_secret_rotated", client_id=client.client_id)
    return secret


def set_client_active(client: OAuthClient, active: bool) -> None:
    """Disabling ends every token of the client for good; enabling lets it ask for new ones."""
    if client.is_active == active:
        return
    with unit_of_work() as work:
        client.is_active = active
        if not active:
            client.credential_id = _new_credential_id()
            _end_delegated_grants(client.client_id)
        holder_changed(work, client_holder(client.client_id))
        event = "oauth_client_enabled" if active else "oauth_client_disabled"
        work.audit(event, client_id=client.client_id)


def set_client_scope(client: OAuthClient, scope: str) -> None:
    """Change what the client may hold; a scope taken away stops working on the next request."""
    allowed = client_scope(scope, tuple(client.grant_types.split()))
    with unit_of_work() as work:
        previous, client.scope = client.scope, allowed
        holder_changed(work, client_holder(client.client_id))
        work.audit(
            "oauth_client_scope_changed",
            client_id=client.client_id,
            previous=previous,
            scope=client.scope,
        )


def delete_client(client: OAuthClient) -> None:
    client_id = client.client_id
    with unit_of_work() as work:
        _end_delegated_grants(client_id)
        db.session.delete(client)
        holder_changed(work, client_holder(client_id))
        work.audit("oauth_client_deleted", client_id=client_id)
