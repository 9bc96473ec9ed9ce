"""OAuth clients: register, rotate the secret, change scope or status, delete; for the CLI.

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
from myapi.models import OAuthClient
from myapi.security.opaque_tokens import new_opaque_token, opaque_token_hash, opaque_token_matches
from myapi.security.revocation import client_holder
from myapi.security.scopes import CLIENT_SCOPES, format_scope, parse_scope
from myapi.services.transactions import holder_changed, unit_of_work

SECRET_PREFIX = "myapi_cs_"
CLIENT_ID_PREFIX = "client_"
_AUDIENCE = re.compile(r"[\x21-\x7e]{1,255}")
_NAME_LENGTH = 100


class ClientRuleError(ValueError):
    """A client setting breaks a rule; the message says which, for the operator."""


def secret_matches(client: OAuthClient, secret: str) -> bool:
    return opaque_token_matches(secret, client.secret_hash)


def client_scope(text: str) -> str:
    """The scopes a client may be allowed, normalised; at least one, each grantable to clients."""
    requested = parse_scope(text)
    if not requested:
        raise ClientRuleError("name at least one scope")
    refused = requested - set(CLIENT_SCOPES)
    if refused:
        raise ClientRuleError(
            f"clients cannot hold {' '.join(sorted(refused))}; "
            f"they may hold {' '.join(CLIENT_SCOPES)}"
        )
    return format_scope(requested)


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


def create_client(name: str, scope: str, audience: str | None = None) -> tuple[OAuthClient, str]:
    """Register a client; returns it with its secret, which is never stored nor shown again."""
    secret = _new_secret()
    client = OAuthClient(
        client_id=CLIENT_ID_PREFIX + secrets.token_hex(12),
        secret_hash=opaque_token_hash(secret),
        credential_id=_new_credential_id(),
        name=_name(name),
        scope=client_scope(scope),
        audience=_audience(audience),
    )
    with unit_of_work() as work:
        db.session.add(client)
        work.audit(
            "oauth_client_created",
            client_id=client.client_id,
            scope=client.scope,
            audience=client.audience,
        )
    return client, secret


def rotate_secret(client: OAuthClient) -> str:
    """A new secret and credential: the old secret stops working and every token dies."""
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
        holder_changed(work, client_holder(client.client_id))
        event = "oauth_client_enabled" if active else "oauth_client_disabled"
        work.audit(event, client_id=client.client_id)


def set_client_scope(client: OAuthClient, scope: str) -> None:
    """Change what the client may hold; a scope taken away stops working on the next request."""
    allowed = client_scope(scope)
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
        db.session.delete(client)
        holder_changed(work, client_holder(client_id))
        work.audit("oauth_client_deleted", client_id=client_id)
