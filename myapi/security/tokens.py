"""Signing and verifying JWTs: session pairs, the one signer, the one verifier, claim checks.

flask-jwt-extended issues every token (`create_access_token`, `create_refresh_token`)
and verifies it (`decode_token`, `verify_jwt_in_request`); this module supplies what it
cannot know. Every claim is set here explicitly (`jti`, `iat`, `nbf`, `exp` from the
session row), so a pair is a pure function of its session: the grace window can hand back
the pair a refresh already issued without ever storing a token. With HS256, RS256 and
EdDSA it is the same bytes; ES256 signatures are randomized, so there it is the same
claims under a new signature.

TOKEN_SIGNING picks the key: `secret` signs HS256 with JWT_SECRET_KEY and no `kid`;
`keys` signs with the current asymmetric key (security/key_ring.py) and names it in `kid`.
"""

from __future__ import annotations

import json
import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token
from flask_jwt_extended.config import config as jwt_config
from flask_jwt_extended.exceptions import CSRFError, JWTDecodeError
from jwt.utils import base64url_decode

from myapi.clock import epoch_seconds, utcnow
from myapi.models import CLIENT_ID_FORMAT, AuthSession
from myapi.security import key_ring
from myapi.security.principal import Kind


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    scope: str
    token_type: str = "Bearer"


def new_token_id() -> str:
    return str(uuid.uuid4())


def next_pair_columns(session_expires_at: datetime, now: datetime) -> dict[str, Any]:
    """Session columns describing a new current pair: new ids, lifetimes counted from `now`."""
    config = current_app.config
    now = now.replace(microsecond=0)
    return {
        "access_jti": new_token_id(),
        "refresh_jti": new_token_id(),
        "pair_issued_at": now,
        "access_expires_at": now + timedelta(minutes=config["ACCESS_TOKEN_MINUTES"]),
        # A refresh token lives REFRESH_TOKEN_DAYS past its last use, never past the session's
        # idle limit (SESSION_IDLE_DAYS from this use) nor past its absolute end.
        "refresh_expires_at": min(
            now + timedelta(days=config["REFRESH_TOKEN_DAYS"]),
            now + timedelta(days=config["SESSION_IDLE_DAYS"]),
            session_expires_at,
        ),
    }


def _keys_mode() -> bool:
    return current_app.config["TOKEN_SIGNING"] == "keys"


@dataclass(frozen=True, slots=True)
class _Signing:
    key: Any
    headers: dict[str, str]


# The key of the token being signed, for flask-jwt-extended's encode key loader: chosen
# once per token, so the `kid` in the header always names the key that signed it.
_SIGNING: ContextVar[_Signing] = ContextVar("signing")


def signing_key_for_current_token(_identity: Any) -> Any:
    """flask-jwt-extended's `encode_key_loader`: the key `sign_token` chose for this token."""
    return _SIGNING.get().key


def _signing() -> _Signing:
    if not _keys_mode():
        return _Signing(current_app.config["JWT_SECRET_KEY"], {})
    signer = key_ring.signing_key()
    return _Signing(signer.private_key, {"alg": signer.algorithm, "kid": signer.kid})


def sign_token(claims: dict[str, Any]) -> str:
    """Sign claims with the service's current key, through flask-jwt-extended.

    `claims` hold every claim but `iss` and `aud`, which default to the service's; the
    library's own defaults (`jti`, `iat`, `exp`, ...) are all overridden by them. In keys
    mode without a usable current key this raises `key_ring.SigningUnavailable` (503).
    """
    signing = _signing()
    create = create_refresh_token if claims["type"] == "refresh" else create_access_token
    reset = _SIGNING.set(signing)
    try:
        return create(
            identity=claims["sub"],
            expires_delta=False,
            additional_claims=claims,
            additional_headers=signing.headers,
        )
    finally:
        _SIGNING.reset(reset)


def encode_pair(session: AuthSession, *, fresh: bool) -> TokenPair:
    """Sign the session's current pair; the same session state always signs the same claims.

    A grant to a third-party app is a session too: its tokens also name the app in
    `client_id` (RFC 9068), and are never fresh.
    """
    common = {
        "sub": str(session.user_id),
        "iat": epoch_seconds(session.pair_issued_at),
        "nbf": epoch_seconds(session.pair_issued_at),
        "sid": session.id,
        "scope": session.scope,
    }
    if session.client_id is not None:
        common["client_id"] = session.client_id
        fresh = False
    access = sign_token(
        common
        | {
            "type": "access",
            "fresh": fresh,
            "jti": session.access_jti,
            "exp": epoch_seconds(session.access_expires_at),
        }
    )
    refresh = sign_token(
        common
        | {
            "type": "refresh",
            "fresh": False,
            "jti": session.refresh_jti,
            "exp": epoch_seconds(session.refresh_expires_at),
        }
    )
    return TokenPair(
        access_token=access,
        refresh_token=refresh,
        expires_in=max(0, epoch_seconds(session.access_expires_at) - epoch_seconds(utcnow())),
        scope=session.scope,
    )


def token_kind(claims: dict[str, Any]) -> Kind:
    """What kind of JWT this is: the one place that reads it off the claims.

    A token naming an OAuth client in `client_id` is the client's own when its `sub` is
    that client, and an app's token acting for the user in `sub` otherwise (a grant from
    the authorization code flow). Every other JWT we issue belongs to a login session.
    (A personal access token is no JWT.)
    """
    if "client_id" not in claims:
        return Kind.SESSION
    return Kind.CLIENT if claims.get("sub") == claims["client_id"] else Kind.DELEGATED


def token_lifetime_limit(claims: dict[str, Any]) -> int:
    """The longest `exp - iat` a token of this kind may claim, in seconds."""
    config = current_app.config
    if claims["type"] == "refresh":
        return config["REFRESH_TOKEN_DAYS"] * 86400
    if token_kind(claims) is Kind.CLIENT:
        return config["CLIENT_TOKEN_MINUTES"] * 60
    return config["ACCESS_TOKEN_MINUTES"] * 60


REQUIRED_CLAIMS = ("sub", "jti", "iat", "nbf", "exp", "type", "iss", "aud", "sid", "scope")
TOKEN_TYPES = ("access", "refresh")
#: A user id as this service writes it in `sub`: canonical decimal, no sign, no leading zero.
USER_ID = re.compile(r"[1-9][0-9]{0,17}")


def has_required_claims(raw_claims: dict[str, Any]) -> bool:
    """Every claim we issue is present in the token as sent.

    Checked on the raw claims: flask-jwt-extended later fills in a missing `type`
    ("access"), `fresh` and `jti`, which would hide their absence.
    """
    return all(name in raw_claims for name in REQUIRED_CLAIMS)


def claims_are_well_formed(claims: dict[str, Any]) -> bool:
    """Beyond the signature: only the shapes this service issues.

    A known token type, text claims as text, numeric times, no overlong lifetime, `aud` a
    single audience (never a list), and `sub` exactly as we write it: a canonical user id,
    or the client id again for a client's token. Presence of every claim was already
    checked on the raw token (`decode_verified`).
    """
    if claims["type"] not in TOKEN_TYPES:
        return False
    text_claims = ("sub", "jti", "sid", "scope", "type", "aud")
    if not all(isinstance(claims[name], str) for name in text_claims):
        return False
    times = (claims["iat"], claims["nbf"], claims["exp"])
    if not all(isinstance(t, int | float) and not isinstance(t, bool) for t in times):
        return False
    if not _names_its_holder_as_issued(claims):
        return False
    return 0 < claims["exp"] - claims["iat"] <= token_lifetime_limit(claims)


def _names_its_holder_as_issued(claims: dict[str, Any]) -> bool:
    """`client_id`, when present, is a client id; `sub` is that client again (the client's
    own token) or a canonical user id (a session's token, or an app's acting for the user)."""
    if "client_id" in claims:
        client_id = claims["client_id"]
        if not (isinstance(client_id, str) and CLIENT_ID_FORMAT.fullmatch(client_id)):
            return False
        if token_kind(claims) is Kind.CLIENT:
            return True
    return bool(USER_ID.fullmatch(claims["sub"]))


_PYJWT = jwt.PyJWT()
#: Header members that name or carry key material; verification never takes a key from a token.
_KEY_MATERIAL_HEADERS = ("jku", "jwk")
_KID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def decode_verified(
    encoded_token: str, csrf_value: str | None, allow_expired: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Parse and verify a token once, returning its header and claims.

    The decoder flask-jwt-extended calls (`adapters.flask_jwt_extended`): the checks the
    library makes, in one `PyJWT.decode_complete` call with the settings it would pass
    (the pinned algorithm, `iss`, `aud`, `exp`/`nbf`/`iat` with the configured leeway,
    `sub` verification). Then every claim we issue must be present in the raw token
    (before the library's defaults fill in `type`, `fresh` and `jti`), and the library's
    defaults are applied. Every failure raises the exception the library's
    loaders turn into 401s; an expired token lacking a claim is refused as malformed, not
    as expired.

    In secret mode there is one static HS256 key and the header is checked on the
    verified parse; in keys mode the header is read once more, before verifying, to pick
    the key by `kid` (see `_verification_key`).
    """
    options: dict[str, Any] = {
        "verify_aud": jwt_config.decode_audience is not None,
        "verify_sub": jwt_config.verify_sub,
    }
    if allow_expired:
        options["verify_exp"] = False
    key, algorithms = _verification_key(encoded_token)
    arguments = {
        "key": key,
        "algorithms": algorithms,
        "audience": jwt_config.decode_audience,
        "issuer": jwt_config.decode_issuer,
        "leeway": jwt_config.leeway,
    }
    try:
        complete = _PYJWT.decode_complete(encoded_token, options=options, **arguments)
    except jwt.ExpiredSignatureError as error:
        # The signature was good; the library's expired-token loader gets header and claims.
        complete = _PYJWT.decode_complete(
            encoded_token, options=options | {"verify_exp": False}, **arguments
        )
        _refuse_key_material(complete["header"], kid_expected=_keys_mode())
        _refuse_duplicate_members(encoded_token)
        error.jwt_header = complete["header"]  # type: ignore[attr-defined]
        error.jwt_data = _with_library_defaults(complete["payload"], csrf_value)  # type: ignore[attr-defined]
        raise
    _refuse_key_material(complete["header"], kid_expected=_keys_mode())
    _refuse_duplicate_members(encoded_token)
    return complete["header"], _with_library_defaults(complete["payload"], csrf_value)


def _verification_key(encoded_token: str) -> tuple[Any, list[str]]:
    """The key and the one algorithm a token may be verified with; nothing comes from the token.

    Secret mode: JWT_SECRET_KEY and HS256. Keys mode: the published key whose `kid`
    the header names, looked up in this process's ring only (never fetched from
    `jku`/`x5u`, never taken from `jwk`/`x5c`), after its shape is checked, and pinned
    to that key's algorithm, so an HS256 token keyed with the public key is refused.
    """
    if not _keys_mode():
        return current_app.config["JWT_SECRET_KEY"], jwt_config.decode_algorithms
    header = jwt.get_unverified_header(encoded_token)
    _refuse_key_material(header, kid_expected=True)
    kid = header.get("kid")
    if not isinstance(kid, str) or not _KID.fullmatch(kid):
        raise jwt.InvalidTokenError("kid missing or malformed")
    key = key_ring.verification_key(kid)
    if key is None:
        raise jwt.InvalidTokenError("kid not in the key set")
    return key.verifier, [key.algorithm]


def _refuse_key_material(header: dict[str, Any], *, kid_expected: bool) -> None:
    """A header naming key material (`jku`, `jwk`, `x5*`) is refused; so is `kid` in secret mode."""
    named = any(name in _KEY_MATERIAL_HEADERS or name.startswith("x5") for name in header)
    if named or ("kid" in header and not kid_expected):
        raise jwt.InvalidTokenError("key material named in the header")


def _refuse_duplicate_members(encoded_token: str) -> None:
    """A header or payload naming a member twice is refused (RFC 7515 4, RFC 7519 4).

    JSON parsers disagree on which duplicate wins, so such a token can mean one thing here
    and another to a verifier elsewhere; this service never writes one. Checked after the
    signature, so only a validly signed token costs the second parse.
    """
    header, payload, _ = encoded_token.split(".")
    for segment in (header, payload):
        json.loads(base64url_decode(segment), object_pairs_hook=_unique_members)


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise jwt.InvalidTokenError("a member name appears twice")
    return dict(pairs)


def _with_library_defaults(claims: dict[str, Any], csrf_value: str | None) -> dict[str, Any]:
    """The raw-claims check, then exactly what flask-jwt-extended's `_decode_jwt` adds."""
    if not has_required_claims(claims):
        raise JWTDecodeError("missing claim")
    if jwt_config.identity_claim_key not in claims:
        raise JWTDecodeError(f"Missing claim: {jwt_config.identity_claim_key}")
    claims.setdefault("type", "access")
    claims.setdefault("fresh", False)
    claims.setdefault("jti", None)
    if csrf_value is not None:
        # The library passes one only for tokens read from its cookies, which are off
        # (`JWT_TOKEN_LOCATION` is headers); the browser mode checks its own CSRF value.
        raise CSRFError("tokens are read from the Authorization header only")
    return claims
