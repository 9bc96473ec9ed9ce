"""The authorization endpoint and its pages: sign in, consent, and back to the app.

`GET /oauth/authorize` is where a third-party app sends the user (RFC 6749 4.1.1). Authlib
validates the request (`server.AppAuthorizationCodeGrant`); this module decides what the
user sees, in server-rendered pages (Jinja templates in the package, no script, no
third-party asset):

- not signed in here (or `prompt=login`): the sign-in page. The password is checked as
  `/auth/login` checks it, with the same limits and audit events, and the sign-in is kept
  in its own short-lived cookie (HttpOnly, SameSite=Lax, Secure but on plain-HTTP
  loopback, path `/oauth/authorize`), revocable like a session;
- the consent page: the app's name, what it asks for in plain words, who is signed in,
  Allow or Deny. Consent is remembered per user and app; a scope not yet allowed, or
  `prompt=consent`, asks again. `prompt=none` never shows a page: `login_required` or
  `consent_required` go back to the app.

Forms carry a CSRF value bound to a random cookie (double submit, HMAC'd with the
service's secret), so a cross-site form can neither submit nor replay one. Pages carry a
nonce-based CSP with `frame-ancestors 'none'`, `X-Frame-Options: DENY` and no-store.
Nothing redirects to the app until its client id and redirect URI are known to be valid:
before that, problems are shown on an error page here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import AccessDeniedError
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError
from flask import Blueprint, Response, current_app, render_template, request

from myapi.extensions import limiter
from myapi.logs import audit
from myapi.oauth.server import Authorization, authorization_server, requested_client_id
from myapi.ratelimits import address_key, client_ip, configured_limit, refund_hit
from myapi.security.scopes import delegated_allowance, effective_scope, format_scope
from myapi.services import accounts, delegation
from myapi.services.sessions import Device, LoginRefused

pages = Blueprint("oauth_pages", __name__, template_folder="templates")

SIGN_IN_COOKIE = "myapi_authorize"
CSRF_COOKIE = "myapi_authorize_csrf"
_PATH = "/oauth/authorize"
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "[::1]", "localhost"})

#: What each scope lets an app do, as the consent page says it.
SCOPE_DESCRIPTIONS = {
    "openid": "Know who you are on myapi (sign you in)",
    "profile": "See your username",
    "email": "See your email address",
    "notes:read": "Read your notes",
    "notes:write": "Create, change and delete your notes",
    "users:read": "See every account on myapi (you are an administrator)",
    "users:write": "Change, disable and delete accounts on myapi (you are an administrator)",
}


def _not_a_sign_in() -> bool:
    """The sign-in limits count password attempts only, not Allow or Deny (nor a page view)."""
    return request.method != "POST" or request.form.get("action") != "sign-in"


def sign_in_account_key() -> str:
    """Sign-in attempts per account, like `/auth/login`'s (an account by its id)."""
    identifier = request.form.get("username", "")
    key = accounts.attempt_key(identifier) if identifier.strip() else None
    return key or address_key()


def _cookie_is_secure() -> bool:
    """Secure, except plain HTTP on loopback (a browser drops a Secure cookie there)."""
    host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    return request.is_secure or host not in _LOOPBACK_HOSTS


def _csrf_value(seed: str) -> str:
    key = current_app.config["JWT_SECRET_KEY"].encode()
    return hmac.new(key, b"authorize-csrf:" + seed.encode(), hashlib.sha256).hexdigest()


def _csrf_seed() -> tuple[str, bool]:
    """The browser's CSRF seed, and whether it is new (and must be set as a cookie)."""
    seed = request.cookies.get(CSRF_COOKIE, "")
    if len(seed) == 43:
        return seed, False
    return secrets.token_urlsafe(32), True


def _csrf_ok() -> bool:
    seed = request.cookies.get(CSRF_COOKIE, "")
    presented = request.form.get("csrf_token", "")
    return len(seed) == 43 and hmac.compare_digest(presented.encode(), _csrf_value(seed).encode())


def _set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=_PATH,
        secure=_cookie_is_secure(),
        httponly=True,
        samesite="Lax",
    )


def _page(template: str, status: int, redirect_uri: str | None = None, **context: Any) -> Response:
    """An HTML page that no one may frame, cache, or load anything into but its own style."""
    nonce = secrets.token_urlsafe(16)
    seed, new_seed = _csrf_seed()
    # The forms have no action: they post to this very URL, query string and any path
    # prefix of PUBLIC_URL included.
    html = render_template(template, nonce=nonce, csrf_token=_csrf_value(seed), **context)
    response = Response(html, status, mimetype="text/html")
    # The form posts here; after Allow or Deny the browser follows the redirect to the app,
    # which `form-action` must also name (browsers apply it to the redirect).
    form_targets = "'self'"
    if redirect_uri:
        parts = urlsplit(redirect_uri)
        form_targets += f" {parts.scheme}://{parts.netloc}"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; form-action {form_targets}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    if new_seed:
        _set_cookie(response, CSRF_COOKIE, seed, max_age=3600)
    return response


def _error_page(message: str, status: int = 400) -> Response:
    return _page("oauth/error.html", status, message=message)


def _refused(error: OAuth2Error) -> Response:
    """Back to the app when its redirect URI is valid; an error page here otherwise."""
    if error.redirect_uri:
        return authorization_server.handle_error_response(None, error)
    audit("oauth_authorization_refused", error=error.error, client_id=requested_client_id())
    return _error_page(error.description or "The request from the app is not valid.")


def _granted_scope(user: Any, grant: Any) -> str:
    """What this user can let the app have of what it asked: the one scope rule."""
    return format_scope(effective_scope(grant.request.scope, delegated_allowance(user.role)))


def _sign_in_page(grant: Any, error: str | None = None, status: int = 200) -> Response:
    return _page(
        "oauth/sign_in.html",
        status,
        redirect_uri=grant.redirect_uri,
        app_name=grant.request.client.record.name,
        error=error,
    )


def _consent_page(grant: Any, signed: delegation.SignedIn, scope: str) -> Response:
    return _page(
        "oauth/consent.html",
        200,
        redirect_uri=grant.redirect_uri,
        app_name=grant.request.client.record.name,
        scope_descriptions=[SCOPE_DESCRIPTIONS[name] for name in scope.split()],
        username=signed.user.username,
        email=signed.user.email,
    )


def _back_to_app(grant: Any, signed: delegation.SignedIn, scope: str) -> Response:
    decision = Authorization(signed.user, signed.auth_time, scope)
    return authorization_server.create_authorization_response(grant=grant, grant_user=decision)


def _error_to_app(grant: Any, error_class: type[OAuth2Error], description: str) -> Response:
    error = error_class(
        description=description,
        state=grant.request.payload.state,
        redirect_uri=grant.redirect_uri,
    )
    return authorization_server.handle_error_response(None, error)


@pages.route(_PATH, methods=["GET", "POST"])
@limiter.limit(
    configured_limit("LOGIN_LIMIT_PER_IP"), key_func=client_ip, exempt_when=_not_a_sign_in
)
@limiter.limit(
    configured_limit("LOGIN_LIMIT_PER_ACCOUNT"),
    key_func=sign_in_account_key,
    exempt_when=_not_a_sign_in,
)
def authorize() -> Response:
    """The authorization endpoint (RFC 6749 4.1.1): sign in, consent, back to the app."""
    try:
        grant = authorization_server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        return _refused(error)
    prompts = set((grant.request.payload.data.get("prompt") or "").split())
    signed = delegation.signed_in(request.cookies.get(SIGN_IN_COOKIE))
    new_sign_in: str | None = None

    if request.method == "POST":
        if not _csrf_ok():
            audit("oauth_form_refused", reason="csrf", client_id=grant.request.client.client_id)
            return _error_page(
                "This form has expired or did not come from this page. "
                "Go back to the app and start again."
            )
        action = request.form.get("action")
        if action == "sign-in":
            try:
                new_sign_in = delegation.sign_in(
                    request.form.get("username", ""),
                    request.form.get("password", ""),
                    Device.of(request),
                )
            except LoginRefused:
                return _sign_in_page(
                    grant, error="That username or password is not right.", status=401
                )
            refund_hit(sign_in_account_key())
            signed = delegation.signed_in(new_sign_in)
        elif action in ("allow", "deny"):
            if signed is None:
                return _sign_in_page(grant, error="Your sign-in has expired: sign in again.")
            scope = _granted_scope(signed.user, grant)
            record = grant.request.client.record
            if action == "deny":
                delegation.deny_consent(signed.user, record, scope)
                return _error_to_app(grant, AccessDeniedError, "The user denied the request.")
            delegation.grant_consent(signed.user, record, scope)
            return _back_to_app(grant, signed, scope)
        else:
            return _error_page("Unknown action.")
    elif "none" in prompts:
        return _without_pages(grant, signed)

    response = _decide(grant, signed, force_sign_in="login" in prompts and new_sign_in is None)
    if new_sign_in is not None:
        _set_cookie(response, SIGN_IN_COOKIE, new_sign_in, delegation.SIGN_IN_MINUTES * 60)
    return response


def _decide(grant: Any, signed: delegation.SignedIn | None, *, force_sign_in: bool) -> Response:
    """Sign-in page, consent page, or straight back to the app with remembered consent."""
    if signed is None or force_sign_in:
        return _sign_in_page(grant)
    scope = _granted_scope(signed.user, grant)
    if not scope:
        return _error_to_app(
            grant, AccessDeniedError, "This account cannot hold any of the requested scopes."
        )
    prompts = set((grant.request.payload.data.get("prompt") or "").split())
    consented = delegation.consented_scope(signed.user.id, grant.request.client.client_id)
    if "consent" not in prompts and set(scope.split()) <= consented:
        return _back_to_app(grant, signed, scope)
    return _consent_page(grant, signed, scope)


def _without_pages(grant: Any, signed: delegation.SignedIn | None) -> Response:
    """`prompt=none`: an answer for the app at once, never a page."""
    if signed is None:
        return _error_to_app(grant, LoginRequiredError, "The user is not signed in.")
    scope = _granted_scope(signed.user, grant)
    consented = delegation.consented_scope(signed.user.id, grant.request.client.client_id)
    if not scope or not set(scope.split()) <= consented:
        return _error_to_app(grant, ConsentRequiredError, "The user has not allowed this.")
    return _back_to_app(grant, signed, scope)
