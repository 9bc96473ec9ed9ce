"""What the key tests look at: the key table, token headers, the JWKS."""

from __future__ import annotations

from typing import Any

import jwt
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from flask.testing import FlaskClient
from sqlalchemy import select

from myapi.extensions import db
from myapi.models import SigningKey
from tests.keys.helpers import ENCRYPTION_KEY

PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def key_rows() -> list[SigningKey]:
    """Every stored key, fresh from the database (the CLI commits in its own session)."""
    db.session.expire_all()
    return list(db.session.scalars(select(SigningKey).order_by(SigningKey.created_at)))


def key_in(state: str) -> SigningKey:
    (key,) = [row for row in key_rows() if row.state == state]
    return key


def header(token: str) -> dict[str, Any]:
    return jwt.get_unverified_header(token)


def published_kids(client: FlaskClient) -> set[str]:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return {jwk["kid"] for jwk in response.json["keys"]}


def private_key_of(key: SigningKey) -> Any:
    """A stored key's private part, decrypted with the tests' encryption key."""
    pem = Fernet(ENCRYPTION_KEY).decrypt(key.encrypted_private_key.encode())
    return load_pem_private_key(pem, password=None)


def signed_by(key: SigningKey, payload: dict[str, Any], **extra_header: Any) -> str:
    """A token signed with a stored key, as the service signs, plus any extra header members."""
    headers = {"kid": key.kid} | extra_header
    return jwt.encode(payload, private_key_of(key), algorithm=key.algorithm, headers=headers)
