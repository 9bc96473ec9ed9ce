"""Browser mode: the refresh token lives in an HttpOnly cookie, the access token in memory.

A browser app opts in with `X-Token-Delivery: cookie` on login and refresh. The answer then
omits `refresh_token` and carries a `csrf_token`; the refresh token is set as an HttpOnly
cookie that only `/auth/refresh` ever receives, so page scripts (and an XSS payload) cannot
read it. Clients that do not send the header keep the pure bearer flow, unchanged.

CSRF: the SPA runs on another origin and cannot read the API's cookies, so the classic
double-submit through `document.cookie` is impossible. The CSRF value is instead bound to
the login session, `HMAC-SHA256(JWT_SECRET_KEY, "csrf:" + session id)`, and a refresh or
logout that the cookie authenticates must echo it in `X-CSRF-Token`. Another site can make
the browser send the cookie but cannot know the value, and a request carrying the header
always needs a CORS preflight, which unlisted origins fail.

A cookie-authenticated refresh is an adapter in front of the normal one: once the CSRF value
checks out, the cookie is presented as the bearer token, so verification, rotation, the grace
window and reuse detection run exactly as for any other client. Logout and logout-all take the
cookie the same way, so a browser whose access token has expired can still end its session.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import jwt as pyjwt
from flask import Flask, Response, after_this_request, current_app, request

from myapi.clock import epoch_seconds, utcnow
from myapi.security.authentication import (
    TokenRejected,
    credential_from_cookie,
    present_cookie_credential,
)
from myapi.security.policy import invalid_token
from myapi.security.tokens import TokenPair

DELIVERY_HEADER = "X-Token-Delivery"
CSRF_HEADER = "X-CSRF-Token"
#: The endpoints the cookie authenticates (without an Authorization header), by path. The
#: cookie is set once per path, so the browser sends it to these three paths and no other.
COOKIE_AUTHENTICATED = {
    "/auth/refresh": "auth.refresh",
    "/auth/logout": "auth.logout",
    "/auth/logout-all": "auth.logout_all",
}
COOKIE_BASENAME = "myapi_refresh"
#: Where the cookie is set, sent or cleared: CORS allows credentials on these paths only.
COOKIE_ENDPOINTS = ("/auth/login", *COOKIE_AUTHENTICATED)
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})


def wants_cookie() -> bool:
    """The client asked for browser mode, or the refresh cookie authenticated this request."""
    asked = request.headers.get(DELIVERY_HEADER, "").strip().lower() == "cookie"
    return asked or credential_from_cookie()


def csrf_token(session_id: str) -> str:
    """The CSRF value of a session: constant for its lifetime, unguessable without the key."""
    key = current_app.config["JWT_SECRET_KEY"].encode()
    return hmac.new(key, b"csrf:" + session_id.encode(), hashlib.sha256).hexdigest()


def _is_loopback(netloc: str) -> bool:
    """`host[:port]` names this machine (an IPv6 literal keeps its brackets)."""
    host = netloc if netloc.endswith("]") else netloc.rsplit(":", 1)[0]
    return host in _LOOPBACK_HOSTS


def _is_plain_http_loopback(origin: str) -> bool:
    scheme, _, netloc = origin.partition("://")
    return scheme == "http" and _is_loopback(netloc)


def cookie_is_secure() -> bool:
    """Secure, except for local development: plain HTTP on loopback for the API and every origin.

    Chromium keeps a `Secure` cookie set over plain HTTP on loopback (it counts 127.0.0.1 and
    localhost as secure; tests/e2e/test_headers.py checks it), but which origins count as
    secure is left to each browser (RFC 6265bis), so plain-HTTP loopback development keeps
    the unprefixed name without `Secure`, which every browser stores. Anything reached over
    HTTPS, or any non-loopback origin, gets `Secure` and the `__Secure-` name.
    """
    origins = current_app.config["CORS_ORIGINS"]
    local = (
        not request.is_secure
        and _is_loopback(request.host)
        and bool(origins)
        and all(_is_plain_http_loopback(origin) for origin in origins)
    )
    return not local


def cookie_name(secure: bool | None = None) -> str:
    """`__Secure-` when the browser allows it; `__Host-` would need `Path=/`."""
    if secure is None:
        secure = cookie_is_secure()
    return f"__Secure-{COOKIE_BASENAME}" if secure else COOKIE_BASENAME


def _unverified_claims(token: str) -> dict[str, Any]:
    """Claims read without verification: only to find the session; the token is verified later.

    A cookie that is no JWT at all (PyJWT also refuses a payload other than a JSON object)
    is refused here, as `malformed`.
    """
    try:
        return pyjwt.decode(token, options={"verify_signature": False})
    except pyjwt.PyJWTError:
        raise TokenRejected("malformed") from None


def _set_refresh_cookie(response: Response, refresh_token: str, max_age: int) -> None:
    """The refresh cookie, once for each path that reads it; `max_age=0` expires them."""
    secure = cookie_is_secure()
    for path in COOKIE_AUTHENTICATED:
        response.set_cookie(
            cookie_name(secure),
            refresh_token,
            max_age=max_age,
            path=path,
            secure=secure,
            httponly=True,
            samesite=current_app.config["REFRESH_COOKIE_SAMESITE"],
        )


def deliver_tokens(view: Callable[..., Any]) -> Callable[..., Any]:
    """In browser mode, move the refresh token of a `TokenPair` answer into the cookie.

    Put it directly above the view function (below `@blp.response`), so it sees the
    `TokenPair` before serialisation; any other answer (a problem) passes through.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = view(*args, **kwargs)
        if not isinstance(result, TokenPair) or not wants_cookie():
            return result
        claims = _unverified_claims(result.refresh_token)

        @after_this_request
        def set_cookie(response: Response) -> Response:
            if response.status_code == 200:
                # The token was just issued (or, within the grace window, seconds ago).
                max_age = int(claims["exp"]) - epoch_seconds(utcnow())
                _set_refresh_cookie(response, result.refresh_token, max_age)
            return response

        body = asdict(result)
        del body["refresh_token"]
        return body | {"csrf_token": csrf_token(claims["sid"])}

    return wrapper


def clears_refresh_cookie(view: Callable[..., Any]) -> Callable[..., Any]:
    """In browser mode, a successful logout (204) also expires the refresh cookie (`Max-Age=0`)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if wants_cookie():

            @after_this_request
            def clear_cookie(response: Response) -> Response:
                if response.status_code == 204:
                    _set_refresh_cookie(response, "", max_age=0)
                return response

        return view(*args, **kwargs)

    return wrapper


def authenticate_by_cookie() -> Response | None:
    """Present the refresh cookie as the bearer token, once the CSRF value matches its session.

    Only for `POST` to refresh, logout and logout-all without an Authorization header: a
    client that sends the header is a bearer client and the cookie is ignored.
    """
    if request.endpoint not in COOKIE_AUTHENTICATED.values() or request.method != "POST":
        return None
    if "Authorization" in request.headers:
        return None
    token = request.cookies.get(cookie_name())
    if not token:
        return None
    session_id = _unverified_claims(token).get("sid")
    presented = request.headers.get(CSRF_HEADER, "")
    if not isinstance(session_id, str) or not hmac.compare_digest(
        presented.encode(), csrf_token(session_id).encode()
    ):
        return invalid_token(
            "csrf",
            "A request with the cookie needs the X-CSRF-Token header from the last token answer.",
        )
    present_cookie_credential(token)
    return None


def register_browser_mode(app: Flask) -> None:
    """Called by the factory after the token policy, so its header normalisation runs first."""
    app.before_request(authenticate_by_cookie)
