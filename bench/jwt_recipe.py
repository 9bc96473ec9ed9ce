"""The baseline: flask-jwt-extended's documented pattern, under the same gunicorn settings.

`@jwt_required()` on a view and a `token_in_blocklist_loader` asking Redis whether the
token's `jti` is revoked (one `EXISTS`), as the library's "Blocklist and Token Revoking"
chapter shows, reading the same tokens myapi issues (same secret, issuer and audience).
It has no rate limiting, no request log, no security headers, no session or user state:
what people write when they start with the library. myapi's own paths are reported as a
ratio of it.
"""

from __future__ import annotations

import os
from typing import Any

import redis
from flask import Flask, jsonify
from flask_jwt_extended import JWTManager, get_jwt, jwt_required

app = Flask(__name__)
app.config["JWT_SECRET_KEY"] = os.environ["JWT_SECRET_KEY"]
app.config["JWT_DECODE_ISSUER"] = os.environ.get("JWT_ISSUER", "myapi")
app.config["JWT_DECODE_AUDIENCE"] = os.environ.get("JWT_AUDIENCE", "myapi")
jwt = JWTManager(app)
blocklist = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)


@jwt.token_in_blocklist_loader
def check_if_token_is_revoked(_jwt_header: dict[str, Any], jwt_payload: dict[str, Any]) -> bool:
    return bool(blocklist.exists(jwt_payload["jti"]))


@app.get("/auth/token-info")
@jwt_required()
def token_info() -> Any:
    claims = get_jwt()
    return jsonify({name: claims[name] for name in ("sub", "scope", "sid", "iat", "exp", "fresh")})


@app.get("/healthz")
def healthz() -> Any:
    """Only for the bench to see the server is up."""
    return jsonify(status="ok")
