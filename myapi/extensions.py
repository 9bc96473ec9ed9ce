"""Extension singletons, created once here and bound to an app by the factory."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g
from flask_cors import CORS
from flask_jwt_extended import JWTManager, view_decorators
from flask_jwt_extended.utils import get_unverified_jwt_headers
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from myapi.models import Base
from myapi.openapi import Api
from myapi.ratelimits import client_ip, one_trip_strategy


class SingleDecodeJWTManager(JWTManager):
    """flask-jwt-extended, with each token parsed and verified once instead of four times.

    The library has no extension point for how a token is decoded, only for the key
    (`decode_key_loader`), so this overrides the one method every decode goes
    through; see `security.tokens.decode_verified` for why and for the checks it
    keeps. A personal access token is no JWT: it is looked up instead
    (`security.tokens.decode_presented`).
    """

    def _decode_jwt_from_config(
        self, encoded_token: str, csrf_value: str | None = None, allow_expired: bool = False
    ) -> dict[str, Any]:
        from myapi.security.tokens import decode_presented  # it imports the models

        header, claims = decode_presented(encoded_token, csrf_value, allow_expired)
        g.verified_jwt_header = (encoded_token, header)
        return claims


def _verified_header(encoded_token: str) -> dict[str, Any]:
    """The header flask-jwt-extended asks for right after decoding: the one just verified.

    The library reads every token's header once more, outside any hook, with a second
    full parse (PyJWT decodes every segment), and that parse would refuse an opaque
    personal access token, whose header is empty. So that one call is answered from the
    decode above; a token this request did not decode is parsed as the library would.
    """
    verified = g.get("verified_jwt_header")
    if verified is not None and verified[0] == encoded_token:
        return verified[1]
    return get_unverified_jwt_headers(encoded_token)


view_decorators.get_unverified_jwt_headers = _verified_header


class OneTripLimiter(Limiter):
    """Flask-Limiter, with one Redis round trip per limit and request instead of three.

    See `ratelimits.one_trip_strategy`: the counting and the rate-limit headers share
    one script's answer. Without Redis storage the library's own strategy is kept.
    """

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        self._limiter = one_trip_strategy(self._storage, self._limiter)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
jwt = SingleDecodeJWTManager()
cors = CORS()
api = Api()
# The default limit is read per request, so each app built in a process keeps its own.
limiter = OneTripLimiter(
    key_func=client_ip, default_limits=[lambda: current_app.config["RATELIMIT_DEFAULT"]]
)
