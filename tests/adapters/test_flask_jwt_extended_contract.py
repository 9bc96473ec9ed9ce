"""Contract of `myapi.adapters.flask_jwt_extended` with Flask-JWT-Extended 4.7.

The adapter replaces two internals of the library. If an upgrade moves, renames or stops
calling either of them, these tests fail before any token is silently mis-verified.
"""

from __future__ import annotations

import inspect
from typing import Any

import flask_jwt_extended
import jwt
import pytest
from flask import Flask
from flask_jwt_extended import JWTManager, decode_token, verify_jwt_in_request, view_decorators
from flask_jwt_extended.exceptions import CSRFError

from myapi.adapters.flask_jwt_extended import SingleDecodeJWTManager
from myapi.extensions import jwt as jwt_manager
from tests.helpers.http import bearer


def test_the_library_is_the_version_the_adapter_was_written_for() -> None:
    assert flask_jwt_extended.__version__.startswith("4.7.")


def test_the_overridden_decoder_still_has_the_upstream_signature() -> None:
    upstream = inspect.signature(JWTManager._decode_jwt_from_config)
    ours = inspect.signature(SingleDecodeJWTManager._decode_jwt_from_config)

    assert list(upstream.parameters) == ["self", "encoded_token", "csrf_value", "allow_expired"]
    assert list(ours.parameters) == list(upstream.parameters)


def test_the_view_decorator_still_reads_the_header_through_the_replaced_global() -> None:
    names = view_decorators._decode_jwt_from_request.__code__.co_names

    assert "get_unverified_jwt_headers" in names
    assert "decode_token" in names
    assert view_decorators.get_unverified_jwt_headers.__module__ == (
        "myapi.adapters.flask_jwt_extended"
    )


def test_decode_token_goes_through_the_overridden_decoder(app: Flask) -> None:
    assert isinstance(jwt_manager, SingleDecodeJWTManager)
    assert app.extensions["flask-jwt-extended"] is jwt_manager


def test_the_blocklist_loader_runs_on_every_verified_request_before_the_token_is_used() -> None:
    # `check_revocation` is also where claims of a shape never issued are refused.
    for function in (verify_jwt_in_request, view_decorators._decode_jwt_from_request):
        assert inspect.signature(function).parameters["skip_revocation_check"].default is False
    assert (
        "verify_token_not_blocklisted" in view_decorators._decode_jwt_from_request.__code__.co_names
    )


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every time PyJWT splits and base64-decodes a token."""
    seen: list[str] = []
    original = jwt.api_jws.PyJWS._load

    def load(self: Any, token: Any) -> Any:
        seen.append("parse")
        return original(self, token)

    monkeypatch.setattr(jwt.api_jws.PyJWS, "_load", load)
    return seen


def test_a_verified_request_parses_its_token_once(
    app: Flask, alice_tokens: dict[str, Any], parses: list[str]
) -> None:
    with app.test_request_context(headers=bearer(alice_tokens["access_token"])):
        decode_token(alice_tokens["access_token"])
        verify_jwt_in_request()

    assert parses == ["parse"]


def test_a_refused_token_is_parsed_once_per_request(
    app: Flask, alice_tokens: dict[str, Any], parses: list[str]
) -> None:
    tampered = alice_tokens["access_token"][:-4] + "AAAA"

    with app.test_request_context(headers=bearer(tampered)):
        for _ in range(2):
            with pytest.raises(jwt.InvalidSignatureError):
                decode_token(tampered)

    assert parses == ["parse"]


def test_a_cookie_csrf_value_from_the_library_is_refused(
    app: Flask, alice_tokens: dict[str, Any]
) -> None:
    # The library passes one only for tokens read from its own cookies, which are off here.
    with app.test_request_context(), pytest.raises(CSRFError):
        decode_token(alice_tokens["access_token"], csrf_value="anything")


def test_an_expired_token_is_decoded_only_when_the_caller_allows_it(
    app: Flask, alice: Any, clock: Any, login: Any
) -> None:
    clock.advance(days=-1)  # issued a day ago: expired by the real time PyJWT checks against
    expired = login("alice")["access_token"]

    with app.test_request_context():
        with pytest.raises(jwt.ExpiredSignatureError):
            decode_token(expired)
        claims = decode_token(expired, allow_expired=True)

    assert claims["sub"] == str(alice.id)
    assert claims["type"] == "access"
