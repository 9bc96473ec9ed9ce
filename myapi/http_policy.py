"""HTTP policy for every response and request body: JSON in, safe headers out."""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.routing import RequestRedirect

from myapi.errors import problem

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_MIMETYPE = "application/x-www-form-urlencoded"
OAUTH_FORM_ENDPOINTS = frozenset(
    {"/oauth/token", "/oauth/revoke", "/oauth/introspect", "/oauth/authorize"}
)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
_WITHOUT_CSP = {
    name: value for name, value in SECURITY_HEADERS.items() if name != "Content-Security-Policy"
}
# Nearly every answer is per-caller or about tokens, so nothing may be stored by a cache;
# the few public documents meant for caching (the JWKS) set their own Cache-Control.
NOT_CACHEABLE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


# Probes carry no secrets, and load balancers often reach them over plain HTTP.
_PLAIN_HTTP_ALLOWED = frozenset({"/healthz", "/readyz"})
HSTS = "max-age=63072000; includeSubDomains"


class InvalidJsonText(ValueError):
    """A JSON string holds something that is not Unicode text (an unpaired surrogate escape)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def _first_invalid_text(value: Any, path: str = "") -> str | None:
    """Where in a parsed document a string (value or member name) is not valid Unicode."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path or "(body)"
    elif isinstance(value, dict):
        for name, member in value.items():
            if _first_invalid_text(name):
                # Named by position, never echoed: the name itself is what is not text.
                return f"{path}.(member name)" if path else "(member name)"
            found = _first_invalid_text(member, f"{path}.{name}" if path else name)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_invalid_text(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


class JsonProvider(DefaultJSONProvider):
    """Flask's JSON, the one parser of every request body the app reads.

    Nesting too deep to parse is malformed input (400), not a 500. A `\\uD800`-style escape
    of an unpaired surrogate decodes to a Python string that no database, log or encoder
    accepts, so it is refused here, naming where it is, before anything (a rate-limit key
    included) can touch it. Raw UTF-8 cannot carry one: without a `\\u` escape in the body
    there is nothing to look for.
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc
        escapes = "\\u" in s if isinstance(s, str) else b"\\u" in s
        if escapes:
            path = _first_invalid_text(value)
            if path is not None:
                raise InvalidJsonText(path)
        return value


class JsonRequest(Request):
    """A body that fails to parse is a 400 saying so, in words that name no parser internals."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if isinstance(e, InvalidJsonText):
            raise BadRequest(f"The JSON string at `{e.path}` is not valid Unicode text.")
        raise BadRequest("The request body is not valid JSON.")


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
    """Runs after every other after-request hook (registered first), so it sees the final headers.

    Appended rather than set: no view sets these, and appending skips a scan of the
    headers per name on every response.
    """
    headers = response.headers
    if "Content-Security-Policy" in headers:  # a page with its own (oauth/authorize.py)
        headers.extend(_WITHOUT_CSP)
    else:
        headers.extend(SECURITY_HEADERS)
    if "Cache-Control" not in headers:
        headers.extend(NOT_CACHEABLE)
    if request.is_secure:
        headers.add("Strict-Transport-Security", HSTS)
    if current_app.config["CORS_ORIGINS"]:
        # flask-cors answers a private-network preflight with "false"; we never speak of it.
        headers.pop("Access-Control-Allow-Private-Network", None)
        response.vary.add("Origin")
    return response


def refuse_redirects() -> None:
    """A path the router would redirect (`//auth/login`, a missing trailing slash) is a 404.

    Werkzeug answers those with a 308 whose `Location` is built from the `Host` header: an
    invitation to re-send the request, credentials and all, to whatever host the client
    named. No path of this API needs a redirect, so none is ever sent.
    """
    if isinstance(request.routing_exception, RequestRedirect):
        request.routing_exception = NotFound()


def register_http_policy(app: Flask) -> None:
    """The rules every request and response follow, whichever view answers."""
    app.json = JsonProvider(app)
    app.request_class = JsonRequest
    app.url_map.merge_slashes = False  # `/auth//login` is no route, in any method
    app.before_request(refuse_redirects)
    app.before_request(require_https)
    app.before_request(require_json_body)
    app.after_request(add_security_headers)
