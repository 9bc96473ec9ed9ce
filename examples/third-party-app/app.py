"""A third-party app that signs users in with myapi and lists their notes ("Sign in with myapi").

It is a separate Flask app, and knows myapi only as an OpenID Connect provider and an API:

* Authlib's OAuth client reads `/.well-known/openid-configuration` (discovery), sends the
  user to the authorization endpoint with PKCE (S256), a `state` and a `nonce`, and on the
  way back exchanges the code as a confidential client and verifies the ID token from the
  JWKS (signature, `iss`, `aud`, `nonce`). The app also checks the `iss` parameter of the
  authorization response (RFC 9207).
* It keeps the user's tokens in its own server-side memory, keyed by a random id in its
  session cookie (never in the browser), calls `GET /api/v1/notes` with the access token,
  and refreshes the pair when the access token has expired (Authlib's `update_token`).

Settings (environment): MYAPI_URL (the API, e.g. http://127.0.0.1:5000), CLIENT_ID,
CLIENT_SECRET, APP_URL (where this app is served, e.g. http://127.0.0.1:5174).
Run: `python examples/third-party-app/app.py` (or `make oauth-demo`, which does it all).
"""

from __future__ import annotations

import html
import os
import secrets
import threading
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, redirect, request, session, url_for

MYAPI_URL = os.environ.get("MYAPI_URL", "http://127.0.0.1:5000").rstrip("/")
APP_URL = os.environ.get("APP_URL", "http://127.0.0.1:5174").rstrip("/")
SCOPE = "openid profile notes:read"

app = Flask(__name__)
app.config.update(
    SECRET_KEY=secrets.token_hex(32),
    # Same host as the API on loopback: a name of its own, so neither sees the other's cookie.
    SESSION_COOKIE_NAME="third_party_app_session",
    SESSION_COOKIE_SAMESITE="Lax",
    SESSION_COOKIE_HTTPONLY=True,
)

# The user's tokens, by the random id in the session cookie: this app's server-side store.
_TOKENS: dict[str, dict[str, Any]] = {}
_TOKENS_LOCK = threading.Lock()


def _session_key() -> str:
    if "key" not in session:
        session["key"] = secrets.token_urlsafe(32)
    return session["key"]


def _fetch_token() -> dict[str, Any] | None:
    return _TOKENS.get(session.get("key", ""))


def _update_token(
    _name: str, token: dict[str, Any], refresh_token: str | None = None, **_: Any
) -> None:
    """Authlib refreshed the pair: keep the new one (the old refresh token is spent)."""
    with _TOKENS_LOCK:
        for key, stored in _TOKENS.items():
            if stored.get("refresh_token") == refresh_token:
                _TOKENS[key] = dict(token)


oauth = OAuth(app, fetch_token=_fetch_token, update_token=_update_token)
oauth.register(
    "myapi",
    client_id=os.environ.get("CLIENT_ID", ""),
    client_secret=os.environ.get("CLIENT_SECRET", ""),
    server_metadata_url=f"{MYAPI_URL}/.well-known/openid-configuration",
    api_base_url=f"{MYAPI_URL}/",
    client_kwargs={"scope": SCOPE, "code_challenge_method": "S256"},
)


def _page(title: str, body: str, status: int = 200) -> tuple[str, int, dict[str, str]]:
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · Notes viewer</title></head>
<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"""
    headers = {
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
        "Cache-Control": "no-store",
    }
    return document, status, headers


@app.get("/")
def home() -> Any:
    token = _fetch_token()
    if token is None:
        return _page(
            "Notes viewer",
            "<p>A third-party app. It never sees your myapi password.</p>"
            '<p><a id="sign-in" href="/login">Sign in with myapi</a></p>'
            '<p><a id="silent" href="/login?prompt=none">Try without asking (prompt=none)</a></p>',
        )
    user = token.get("userinfo") or {}
    try:
        response = oauth.myapi.get("api/v1/notes", token=token)
        ended = response.status_code == 401
    except OAuthError:  # the refresh was refused: the user withdrew the app, or it expired
        ended = True
    if ended:
        with _TOKENS_LOCK:
            _TOKENS.pop(session.get("key", ""), None)
        return _page(
            "Access ended",
            '<p id="ended">myapi no longer lets this app read your notes.</p>'
            '<p><a id="sign-in" href="/login">Sign in with myapi again</a></p>',
        )
    items = response.json().get("items", []) if response.ok else []
    notes = "".join(f"<li>{html.escape(note['title'])}</li>" for note in items)
    return _page(
        "Your notes",
        f'<p>Signed in as <strong id="who">{html.escape(str(user.get("preferred_username")))}'
        f'</strong>.</p><ul id="notes">{notes}</ul>'
        '<p><a id="sign-out" href="/logout">Sign out of this app</a></p>',
    )


@app.get("/login")
def login() -> Any:
    prompt = request.args.get("prompt")
    extra = {"prompt": prompt} if prompt in ("none", "login", "consent") else {}
    return oauth.myapi.authorize_redirect(f"{APP_URL}/callback", **extra)


@app.get("/callback")
def callback() -> Any:
    issuer = oauth.myapi.load_server_metadata()["issuer"]
    if request.args.get("iss") != issuer:  # RFC 9207: the answer came from our provider
        return _page("Sign-in failed", "<p>The answer did not come from myapi.</p>", 400)
    try:
        token = oauth.myapi.authorize_access_token()
    except OAuthError as error:
        message = html.escape(error.error or "error")
        return _page("Not signed in", f'<p id="error">myapi answered: {message}</p>', 403)
    with _TOKENS_LOCK:
        _TOKENS[_session_key()] = dict(token)
    return redirect(url_for("home"))


@app.get("/logout")
def logout() -> Any:
    with _TOKENS_LOCK:
        _TOKENS.pop(session.pop("key", ""), None)
    return redirect(url_for("home"))


if __name__ == "__main__":
    parts = urlsplit(APP_URL)
    app.run(host=parts.hostname, port=parts.port or 80)
