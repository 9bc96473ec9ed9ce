"""flask-jwt-extended 4.7, with each token parsed once per request instead of four times.

flask-jwt-extended verifies a token by parsing it three times in
`JWTManager._decode_jwt_from_config` (unverified claims for the decode key loader, the
unverified header, then the verified decode) and a fourth time in
`view_decorators._decode_jwt_from_request`, which calls
`view_decorators.get_unverified_jwt_headers` right after decoding. PyJWT validates every
base64 character of every segment in Python, so those parses were a third of an
authenticated request's CPU. The library offers no public extension point for how a token
is decoded (only for the key), so this module replaces exactly these two internals of
Flask-JWT-Extended 4.7.4 (`setup.cfg` pins `<4.8`;
`tests/adapters/test_flask_jwt_extended_contract.py` fails if either moves or changes):

- `flask_jwt_extended.jwt_manager.JWTManager._decode_jwt_from_config(encoded_token,
  csrf_value=None, allow_expired=False) -> dict`, overridden to call the decoder the app
  registers with `token_decoder` (`security.tokens.decode_verified`: one verified parse,
  the same checks), and to remember its answer (or its refusal) for the rest of the request;
- `flask_jwt_extended.view_decorators.get_unverified_jwt_headers(encoded_token) -> dict`,
  the module global the view decorator calls, replaced by one that answers from that
  memory (a token the request did not decode is parsed as the library would).

The library's role is otherwise untouched: `decode_token`, `verify_jwt_in_request`, token
type checks, every loader (the blocklist loader above all) and token creation are its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import has_request_context, request
from flask_jwt_extended import JWTManager, view_decorators
from flask_jwt_extended.utils import get_unverified_jwt_headers

Decoder = Callable[[str, str | None, bool], tuple[dict[str, Any], dict[str, Any]]]
# In the WSGI environ: never outlives the request, never crosses threads.
_DECODED = "myapi.decoded_token"


class SingleDecodeJWTManager(JWTManager):
    """`JWTManager` whose decoding is one call to the app's decoder, once per token and request."""

    def __init__(self) -> None:
        super().__init__()
        self._decoder: Decoder | None = None

    def token_decoder(self, decoder: Decoder) -> Decoder:
        """Register `decoder(token, csrf_value, allow_expired) -> (header, claims)`."""
        self._decoder = decoder
        return decoder

    def _decode_jwt_from_config(
        self, encoded_token: str, csrf_value: str | None = None, allow_expired: bool = False
    ) -> dict[str, Any]:
        key = (encoded_token, csrf_value, allow_expired)
        remembered = request.environ.get(_DECODED) if has_request_context() else None
        if remembered is not None and remembered[0] == key:
            if isinstance(remembered[2], Exception):
                raise remembered[2]
            return dict(remembered[2])
        assert self._decoder is not None, "register a decoder with token_decoder()"
        try:
            header, claims = self._decoder(encoded_token, csrf_value, allow_expired)
        except Exception as refusal:
            # A refused token is refused again without a second parse or key lookup.
            if has_request_context():
                request.environ[_DECODED] = (key, {}, refusal)
            raise
        if has_request_context():
            request.environ[_DECODED] = (key, header, dict(claims))
        return claims


def _header_of_decoded_token(encoded_token: str) -> dict[str, Any]:
    """The header of the token this request just decoded, else the library's own parse."""
    remembered = request.environ.get(_DECODED) if has_request_context() else None
    if remembered is not None and remembered[0][0] == encoded_token:
        if isinstance(remembered[2], Exception):
            raise remembered[2]
        return remembered[1]
    return get_unverified_jwt_headers(encoded_token)


view_decorators.get_unverified_jwt_headers = _header_of_decoded_token
