"""Who the token endpoint's per-client limit counts."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from flask import request

from myapi.models import CLIENT_ID_FORMAT
from myapi.ratelimits import address_key


def basic_user() -> str | None:
    """The user part of `Authorization: Basic`, as sent (None without such a header)."""
    scheme, _, credentials = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    return unquote(decoded.partition(":")[0])


def claimed_client_id() -> str | None:
    """The OAuth client id a request names (HTTP Basic user, else the form's `client_id`),
    if it has the shape of one; nothing is looked up and no secret is read.

    `server.one_client_authentication` has already refused a request naming two clients,
    so on a token that is issued this is the client that authenticated.
    """
    claimed = basic_user()
    if claimed is None and request.mimetype == "application/x-www-form-urlencoded":
        claimed = request.form.get("client_id")
    return claimed if claimed and CLIENT_ID_FORMAT.fullmatch(claimed) else None


def oauth_client_key() -> str:
    """Count token requests per OAuth client, else (no client named) per address."""
    client_id = claimed_client_id()
    return "client:" + client_id if client_id else address_key()
