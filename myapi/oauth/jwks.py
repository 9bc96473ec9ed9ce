"""`/.well-known/jwks.json`: the public signing keys other services verify tokens with."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app

from myapi.oauth import blp
from myapi.security.key_ring import public_jwks


class JwkSchema(ma.Schema):
    """A public JWK (RFC 7517); only public members are declared, so only they are sent."""

    kty = ma.fields.String(required=True, metadata={"description": "EC, RSA or OKP."})
    kid = ma.fields.String(required=True, metadata={"description": "RFC 7638 thumbprint."})
    alg = ma.fields.String(required=True, metadata={"description": "ES256, RS256 or EdDSA."})
    use = ma.fields.String(required=True, metadata={"description": "Always `sig`."})
    crv = ma.fields.String(metadata={"description": "P-256 (EC) or Ed25519 (OKP)."})
    x = ma.fields.String()
    y = ma.fields.String()
    n = ma.fields.String()
    e = ma.fields.String()


class JwksSchema(ma.Schema):
    keys = ma.fields.List(ma.fields.Nested(JwkSchema), required=True)


@blp.route("/.well-known/jwks.json", methods=["GET"])
@blp.response(200, JwksSchema)
def jwks() -> Any:
    """The keys that verify this service's tokens: current, next, and previous ones.

    Public and cacheable: a verifier re-reads it when a token names a kid it lacks.
    Empty when tokens are signed with the shared secret (TOKEN_SIGNING=secret).
    """
    max_age = current_app.config["KEY_SET_REFRESH_SECONDS"]
    return public_jwks(), 200, {"Cache-Control": f"public, max-age={max_age}"}
