"""Forged and mis-issued tokens (catalogue groups B and C): every one is a 401 invalid_token.

Group B forges without the key, as an attacker would; group C signs with the app's own
key, simulating an issuer mistake, and starts from a real token's claims with one change.
Tests with several variants send them all and report every variant that is not refused.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.http import bearer
from tests.policy.helpers import (
    assert_each_invalid_token,
    assert_invalid_token,
    b64url,
    claims_of,
    hs256_from_json,
    hs256_raw,
    sign,
    unb64url,
    unsigned,
    with_payload,
)

ME = "/auth/me"
Get = Callable[[str], Any]


@pytest.fixture
def access_token(alice_tokens: dict[str, Any]) -> str:
    return alice_tokens["access_token"]


@pytest.fixture
def access_claims(access_token: str) -> dict[str, Any]:
    return claims_of(access_token)


@pytest.fixture
def secret(app: Flask) -> str:
    return app.config["JWT_SECRET_KEY"]


@pytest.fixture
def me(client: FlaskClient) -> Get:
    """GET /auth/me presenting the given token as Bearer."""
    return lambda token: client.get(ME, headers=bearer(token))


@pytest.fixture
def resign(secret: str, access_claims: dict[str, Any]) -> Callable[..., str]:
    """Alice's access claims with the given changes (None deletes a claim), signed with the key."""

    def make(**changes: Any) -> str:
        claims = dict(access_claims)
        for name, value in changes.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        # Built by hand: PyJWT's encoder refuses some of the malformed claims tested here.
        return hs256_raw({"alg": "HS256", "typ": "JWT"}, claims, secret.encode())

    return make


def test_a_token_re_signed_unchanged_with_the_app_key_is_accepted(
    me: Get, resign: Callable[..., str]
) -> None:
    # The baseline: the forging helper itself makes valid tokens, so each rejection
    # below is caused by the one thing that test changes.
    response = me(resign())

    assert response.status_code == 200
    assert response.json["username"] == "alice"


# --- B. Signature and algorithm attacks (no key) ---


def test_a_token_with_a_removed_truncated_or_flipped_signature_is_rejected(
    me: Get, access_token: str
) -> None:
    header, payload, signature = access_token.split(".")
    raw = bytearray(unb64url(signature))
    raw[0] ^= 0x01

    assert_each_invalid_token(
        {
            "removed": me(f"{header}.{payload}."),
            "removed with its dot": me(f"{header}.{payload}"),
            "truncated": me(access_token[:-4]),
            "byte flipped": me(f"{header}.{payload}.{b64url(bytes(raw))}"),
        }
    )


def test_an_unsigned_token_is_rejected_whatever_the_spelling_of_none(
    me: Get, access_token: str, access_claims: dict[str, Any]
) -> None:
    original_signature = access_token.rsplit(".", 1)[1]
    responses = {alg: me(unsigned(access_claims, alg)) for alg in ("none", "None", "NONE", "nOnE")}
    responses["empty alg"] = me(unsigned(access_claims, ""))
    responses["none, signature kept"] = me(unsigned(access_claims, "none", original_signature))

    assert_each_invalid_token(responses)


def test_only_hs256_is_accepted_even_with_the_right_key(
    me: Get, access_token: str, access_claims: dict[str, Any], secret: str
) -> None:
    original_signature = access_token.rsplit(".", 1)[1]

    assert_each_invalid_token(
        {
            "HS512": me(sign(access_claims, secret, algorithm="HS512")),
            "HS384": me(sign(access_claims, secret, algorithm="HS384")),
            "RS256 header": me(unsigned(access_claims, "RS256", original_signature)),
        }
    )


def test_a_token_signed_with_a_guessed_key_is_rejected(
    me: Get, access_claims: dict[str, Any]
) -> None:
    header = {"alg": "HS256", "typ": "JWT"}
    keys = [b"", b"secret", b"change-me", b"12345", b"myapi", b"your-secret-key"]

    assert_each_invalid_token(
        {repr(key): me(hs256_raw(header, access_claims, key)) for key in keys}
    )


def test_a_kid_header_pointing_at_a_guessable_key_is_rejected(
    me: Get, access_claims: dict[str, Any]
) -> None:
    cases = {
        "../../../../../../dev/null": b"",
        "/dev/null": b"",
        "": b"",
        "x' UNION SELECT '1';--": b"1",
        "$(sleep 10)": b"",
        "|sleep 10": b"",
    }

    assert_each_invalid_token(
        {
            kid: me(hs256_raw({"alg": "HS256", "typ": "JWT", "kid": kid}, access_claims, key))
            for kid, key in cases.items()
        }
    )


def test_a_token_with_an_unknown_critical_header_is_rejected(
    me: Get, access_claims: dict[str, Any], secret: str
) -> None:
    # Signed with the real key, so only the `crit` header can be the reason to refuse it.
    header = {"alg": "HS256", "typ": "JWT", "crit": ["x-unknown"], "x-unknown": True}

    assert_invalid_token(me(hs256_raw(header, access_claims, secret.encode())))


def test_a_tampered_claim_under_the_original_signature_is_rejected(
    me: Get, access_token: str, access_claims: dict[str, Any], bob: Any
) -> None:
    changes = {
        "sub": {"sub": str(bob.id)},
        "scope": {"scope": "notes:read notes:write users:read users:write"},
        "type": {"type": "refresh"},
        "role": {"role": "admin"},
        "exp": {"exp": 4102444800},
    }

    assert_each_invalid_token(
        {name: me(with_payload(access_token, access_claims | c)) for name, c in changes.items()}
    )


def test_a_tampered_scope_does_not_open_an_admin_route(
    client: FlaskClient, access_token: str, access_claims: dict[str, Any]
) -> None:
    forged = with_payload(access_token, access_claims | {"scope": "users:read"})

    assert_invalid_token(client.get("/api/v1/admin/users", headers=bearer(forged)))


# --- C. Claim validation (signed with the real key) ---


def test_a_token_from_another_issuer_is_rejected(me: Get, resign: Callable[..., str]) -> None:
    issuers = ["https://auth.example.evil", "urn:", "myap", "MYAPI", "myapi ", ["myapi"]]

    assert_each_invalid_token({repr(iss): me(resign(iss=iss)) for iss in issuers})


def test_a_token_for_another_audience_is_rejected(me: Get, resign: Callable[..., str]) -> None:
    audiences = ["other-service", ["other-service"], "myapi-admin", ""]

    assert_each_invalid_token({repr(aud): me(resign(aud=aud)) for aud in audiences})


def test_an_audience_list_is_rejected_even_when_it_names_this_service(
    me: Get, resign: Callable[..., str]
) -> None:
    # This service writes `aud` as one string: a list is not a token it issued.
    audiences = [["myapi"], ["other", "myapi"], ["myapi", "myapi"]]

    assert_each_invalid_token({repr(aud): me(resign(aud=aud)) for aud in audiences})


def test_a_subject_that_is_not_a_canonical_user_id_is_rejected(
    me: Get, resign: Callable[..., str], access_claims: dict[str, Any]
) -> None:
    user_id = access_claims["sub"]
    spellings = ["0" + user_id, "+" + user_id, user_id + ".0", " " + user_id, user_id + "\n"]

    assert_each_invalid_token({repr(sub): me(resign(sub=sub)) for sub in spellings})


def test_duplicate_member_names_in_the_header_or_payload_are_rejected(
    me: Get, secret: str, access_claims: dict[str, Any]
) -> None:
    header = '{"alg":"HS256","typ":"JWT"}'
    claims = json.dumps(access_claims, separators=(",", ":"))
    other_subject = json.dumps(access_claims | {"sub": "999"}, separators=(",", ":"))
    tokens = {
        # Parsers disagree on which duplicate wins; a verifier must not pick one.
        "sub twice": hs256_from_json(
            header, other_subject[:-1] + "," + claims[1:], secret.encode()
        ),
        "alg twice": hs256_from_json(
            '{"alg":"none","alg":"HS256","typ":"JWT"}', claims, secret.encode()
        ),
        "typ twice": hs256_from_json(
            '{"alg":"HS256","typ":"JWT","typ":"JWT"}', claims, secret.encode()
        ),
    }
    control = hs256_from_json(header, claims, secret.encode())

    assert me(control).status_code == 200
    assert_each_invalid_token({name: me(token) for name, token in tokens.items()})


def test_a_token_missing_any_required_claim_is_rejected(
    me: Get, resign: Callable[..., str]
) -> None:
    claims = ["aud", "iss", "exp", "jti", "iat", "nbf", "sid", "scope", "sub", "type"]

    assert_each_invalid_token({claim: me(resign(**{claim: None})) for claim in claims})


def test_a_token_with_a_mistyped_claim_is_rejected(me: Get, resign: Callable[..., str]) -> None:
    changes = {
        "sid number": {"sid": 12345},
        "jti number": {"jti": 7},
        "scope list": {"scope": ["notes:read"]},
        "exp string": {"exp": "4102444800"},
        "iat boolean": {"iat": True},
        "sub number": {"sub": 1},  # alice's id, but RFC 7519 4.1.2 makes `sub` a string
    }

    assert_each_invalid_token({name: me(resign(**c)) for name, c in changes.items()})


def test_an_expired_token_is_rejected(app: Flask, me: Get, resign: Callable[..., str]) -> None:
    exp = int(time.time()) - app.config["JWT_LEEWAY_SECONDS"] - 5

    assert_invalid_token(me(resign(exp=exp, iat=exp - 300, nbf=exp - 300)))


def test_a_token_not_yet_valid_is_rejected(me: Get, resign: Callable[..., str]) -> None:
    assert_invalid_token(me(resign(nbf=int(time.time()) + 60)))


def test_a_token_issued_in_the_future_is_rejected(me: Get, resign: Callable[..., str]) -> None:
    iat = int(time.time()) + 3600

    assert_invalid_token(me(resign(iat=iat, exp=iat + 600)))


def test_an_access_token_living_longer_than_the_configured_lifetime_is_rejected(
    app: Flask, me: Get, access_claims: dict[str, Any], resign: Callable[..., str]
) -> None:
    iat = access_claims["iat"]
    lifetime = app.config["ACCESS_TOKEN_MINUTES"] * 60
    # A client token's lifetime unlike this one's, so a user's token is held to its own.
    app.config["CLIENT_TOKEN_MINUTES"] = 60

    assert_each_invalid_token(
        {
            "a minute too long": me(resign(exp=iat + lifetime + 60)),
            "thirty days": me(resign(exp=iat + 30 * 86400)),
            "exp before iat": me(resign(iat=access_claims["exp"] + 1)),
        }
    )


def test_an_access_token_is_held_to_its_lifetime_to_the_second(
    app: Flask, me: Get, access_claims: dict[str, Any], resign: Callable[..., str]
) -> None:
    iat = access_claims["iat"]
    lifetime = app.config["ACCESS_TOKEN_MINUTES"] * 60

    assert me(resign(exp=iat + lifetime)).status_code == 200
    assert me(resign(exp=iat + 1)).status_code == 200
    assert_each_invalid_token(
        {
            "one second longer": me(resign(exp=iat + lifetime + 1)),
            "no lifetime at all": me(resign(exp=iat)),
        }
    )


def test_a_refresh_token_is_held_to_its_lifetime_to_the_second(
    app: Flask, client: FlaskClient, alice_tokens: dict[str, Any], secret: str
) -> None:
    claims = claims_of(alice_tokens["refresh_token"])
    lifetime = app.config["REFRESH_TOKEN_DAYS"] * 86400

    def refresh_with(exp: int) -> Any:
        token = hs256_raw({"alg": "HS256", "typ": "JWT"}, claims | {"exp": exp}, secret.encode())
        return client.post("/auth/refresh", headers=bearer(token))

    assert_invalid_token(refresh_with(claims["iat"] + lifetime + 1))
    assert refresh_with(claims["iat"] + lifetime).status_code == 200


def test_a_token_whose_subject_is_no_known_user_is_rejected(
    me: Get, resign: Callable[..., str]
) -> None:
    subjects = ["999", "0", "alice", "1 OR 1=1", "-1", "1.0", "9" * 40, ""]

    assert_each_invalid_token({repr(sub): me(resign(sub=sub)) for sub in subjects})


def test_a_token_naming_another_users_id_with_its_own_session_is_rejected(
    me: Get, resign: Callable[..., str], bob: Any
) -> None:
    # Bob exists, but the session in `sid` is alice's: the pair must match.
    assert_invalid_token(me(resign(sub=str(bob.id))))


def test_a_token_with_an_unknown_session_is_rejected(me: Get, resign: Callable[..., str]) -> None:
    assert_invalid_token(me(resign(sid="0" * 32)))


def test_a_token_of_a_disabled_user_is_rejected(
    client: FlaskClient, alice_headers: dict[str, str], admin_headers: dict[str, str], alice: Any
) -> None:
    disabled = client.patch(
        f"/api/v1/admin/users/{alice.id}", headers=admin_headers, json={"is_active": False}
    )
    assert disabled.status_code == 200

    assert_invalid_token(client.get(ME, headers=alice_headers))


def test_a_refresh_token_is_not_an_access_token(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    headers = bearer(alice_tokens["refresh_token"])

    assert_each_invalid_token(
        {
            "GET /auth/me": client.get(ME, headers=headers),
            "GET /api/v1/notes": client.get("/api/v1/notes", headers=headers),
            "POST /auth/logout": client.post("/auth/logout", headers=headers),
        }
    )


def test_an_access_token_is_not_a_refresh_token(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    response = client.post("/auth/refresh", headers=bearer(alice_tokens["access_token"]))

    assert_invalid_token(response)


def test_a_token_of_another_kind_is_not_an_access_token(
    me: Get, resign: Callable[..., str]
) -> None:
    # A sibling token kind signed with the same key (RFC 8725 3.12) must not pass as access.
    kinds = ["password_reset", "email_verify", "Access", ""]

    assert_each_invalid_token({repr(kind): me(resign(type=kind)) for kind in kinds})


def test_access_claims_relabelled_as_refresh_and_signed_are_not_a_refresh_token(
    client: FlaskClient, resign: Callable[..., str]
) -> None:
    # Right type, right key, but the jti is the access token's, not the session's refresh jti.
    forged = resign(type="refresh", fresh=None)

    assert_invalid_token(client.post("/auth/refresh", headers=bearer(forged)))


def test_refresh_claims_relabelled_as_access_are_rejected(
    me: Get, alice_tokens: dict[str, Any], secret: str
) -> None:
    # A refresh token's lifetime is far beyond an access token's: relabelling it is overlong.
    claims = claims_of(alice_tokens["refresh_token"]) | {"type": "access", "fresh": False}

    assert_invalid_token(me(sign(claims, secret)))


def test_a_revoked_token_stays_revoked_in_a_non_canonical_form(
    client: FlaskClient, me: Get, access_token: str
) -> None:
    assert client.post("/auth/logout", headers=bearer(access_token)).status_code == 204

    assert_each_invalid_token(
        {
            "as issued": me(access_token),
            "trailing =": me(access_token + "="),
            "trailing ==": me(access_token + "=="),
        }
    )


def test_a_logged_out_token_re_signed_with_a_new_jti_is_still_rejected(
    client: FlaskClient, me: Get, access_token: str, resign: Callable[..., str]
) -> None:
    # Logout revokes the session, not only the jti: a fresh jti does not revive it.
    assert client.post("/auth/logout", headers=bearer(access_token)).status_code == 204

    assert_invalid_token(me(resign(jti="00000000-0000-4000-8000-000000000000")))
