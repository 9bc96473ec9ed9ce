"""HTTP policy for every response and request body: JSON in, safe headers out."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, request
from flask.json.provider import DefaultJSONProvider

from myapi.errors import problem

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_MIMETYPE = "application/x-www-form-urlencoded"
OAUTH_FORM_ENDPOINTS = frozenset({"/oauth/token", "/oauth/revoke", "/oauth/introspect"})

_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
# Nearly every answer is per-caller or about tokens, so nothing may be stored by a cache;
# the few public documents meant for caching (the JWKS) set their own Cache-Control.
_NOT_CACHEABLE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


# Probes carry no secrets, and load balancers often reach them over plain HTTP.
_PLAIN_HTTP_ALLOWED = frozenset({"/healthz", "/readyz"})
HSTS = "max-age=63072000; includeSubDomains"


class JsonProvider(DefaultJSONProvider):
    """Flask's JSON, with nesting too deep to parse reported as malformed input (400), not a 500."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc


def require_https() -> Response | None:
    """Refuse plain HTTP outright (no redirect: a redirect would already have leaked the token)."""
    plain = current_app.config["HTTPS_ONLY"] and not request.is_secure
    if plain and request.path not in _PLAIN_HTTP_ALLOWED:
        return problem(403, "This API is served over HTTPS only.", slug="https-required")
    return None


def require_json_body() -> Response | None:
    """A request with a body must say it is JSON (415 otherwise); this also stops form-post CSRF.

    The OAuth endpoints take form bodies instead, as RFC 6749 (and 7009, 7662) define them.
    A cross-site form cannot use them on a victim's behalf: they act only for the caller
    that authenticates in the request itself (an Authorization header, which a form cannot
    set, or a client secret in the body, which the attacker would need to know).
    """
    if request.method not in _BODY_METHODS:
        return None
    has_body = (
        bool(request.content_length)
        or "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    )
    if not has_body:
        return None
    if request.path in OAUTH_FORM_ENDPOINTS:
        if request.mimetype != FORM_MIMETYPE:
            return problem(415, f"Send the request body as {FORM_MIMETYPE}.")
        return None
    if not request.is_json:
        return problem(415, "Send the request body as application/json.")
    return None


def add_security_headers(response: Response) -> Response:
    """Runs after the limiter's hook (registered before it), so it sees the final headers."""
    response.headers.update(_SECURITY_HEADERS)
    if "Cache-Control" not in response.headers:
        response.headers.update(_NOT_CACHEABLE)
    # The limiter sends Retry-After on every answer; it only means something on these.
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    # flask-cors answers a private-network preflight with "false"; we never speak of it at all.
    response.headers.pop("Access-Control-Allow-Private-Network", None)
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = HSTS
    if current_app.config["CORS_ORIGINS"]:
        response.vary.add("Origin")
    return response


def register_http_policy(app: Flask) -> None:
    app.json = JsonProvider(app)
    app.before_request(require_https)
    app.before_request(require_json_body)
    app.after_request(add_security_headers)
