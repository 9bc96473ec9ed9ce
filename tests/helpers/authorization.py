"""Driving the authorization code flow in tests: PKCE values, the pages as a browser sees
them, and a `requests` transport so Authlib's OAuth2Session can talk to the test app."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from flask.testing import FlaskClient

from tests.helpers.http import PASSWORD

AUTHORIZE = "/oauth/authorize"
APP_REDIRECT = "https://app.example/callback"
NATIVE_REDIRECT = "http://127.0.0.1/callback"
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str


def new_pkce() -> Pkce:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return Pkce(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode())


def authorize_query(client_id: str, pkce: Pkce, **params: str | None) -> str:
    """An authorization request's URL; a parameter given as None is left out."""
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": APP_REDIRECT,
        "scope": "notes:read",
        "state": "xyz-state",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    } | params
    return AUTHORIZE + "?" + urlencode({k: v for k, v in query.items() if v is not None})


def csrf_of(page: Any) -> str:
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, page.get_data(as_text=True)
    return match[1]


def post_form(client: FlaskClient, url: str, page: Any, **form: str) -> Any:
    return client.post(url, data={"csrf_token": csrf_of(page), **form})


def sign_in(client: FlaskClient, url: str, username: str = "alice") -> Any:
    """Open the authorization URL and sign in on its page; returns the page that follows."""
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)
    return post_form(client, url, page, action="sign-in", username=username, password=PASSWORD)


def redirect_params(response: Any) -> dict[str, str]:
    """The query parameters of a redirect back to the app (asserting it is one)."""
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    params = parse_qs(urlsplit(location).query)
    return {name: values[0] for name, values in params.items()}


def authorize_and_allow(client: FlaskClient, url: str, username: str = "alice") -> dict[str, str]:
    """Sign in, allow, and return the redirect's parameters (code, state, iss)."""
    consent = sign_in(client, url, username)
    return redirect_params(post_form(client, url, consent, action="allow"))


class FlaskTransport(requests.adapters.BaseAdapter):
    """A `requests` transport answering from the Flask test client, so a real OAuth client
    library (Authlib's OAuth2Session) runs its own requests against the app."""

    def __init__(self, client: FlaskClient) -> None:
        super().__init__()
        self.client = client

    def send(self, request: requests.PreparedRequest, **_kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url)
        answer = self.client.open(
            parts.path,
            method=request.method,
            query_string=parts.query,
            headers=dict(request.headers),
            data=request.body,
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers.update(answer.headers)
        response._content = answer.get_data()
        response.url = request.url
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to close."""
