"""The authorization code flow end to end: a user lets an app act for them."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import jwt
from authlib.integrations.requests_client import OAuth2Session
from flask.testing import FlaskClient

from myapi.models import User
from tests.helpers.authorization import (
    APP_REDIRECT,
    FlaskTransport,
    authorize_and_allow,
    authorize_query,
    new_pkce,
    post_form,
    redirect_params,
    sign_in,
)
from tests.helpers.http import bearer
from tests.helpers.oauth import Credentials


def test_an_app_gets_a_code_and_exchanges_it_for_tokens_acting_for_the_user(
    client: FlaskClient, alice: User, web_app: Credentials, exchange: Callable[..., Any]
) -> None:
    pkce = new_pkce()

    params = authorize_and_allow(client, authorize_query(web_app.client_id, pkce))
    response = exchange(web_app, params["code"], pkce.verifier)

    assert params["state"] == "xyz-state"
    assert params["iss"] == "myapi"
    assert response.status_code == 200, response.json
    assert set(response.json) == {
        "access_token", "token_type", "expires_in", "refresh_token", "scope"
    }  # fmt: skip
    claims = jwt.decode(response.json["access_token"], options={"verify_signature": False})
    assert (claims["sub"], claims["client_id"]) == (str(alice.id), web_app.client_id)
    assert claims["scope"] == "notes:read"
    assert claims["aud"] == "myapi"


def test_the_apps_token_reads_the_users_notes(
    client: FlaskClient, alice: User, alice_headers: dict[str, str], app_tokens: dict[str, Any]
) -> None:
    client.post("/api/v1/notes", json={"title": "mine"}, headers=alice_headers)

    notes = client.get("/api/v1/notes", headers=bearer(app_tokens["access_token"]))

    assert notes.status_code == 200
    assert [note["title"] for note in notes.json["items"]] == ["mine"]


def test_the_redirect_goes_exactly_to_the_registered_uri(
    client: FlaskClient, alice: User, web_app: Credentials
) -> None:
    url = authorize_query(web_app.client_id, new_pkce())
    consent = sign_in(client, url)

    done = post_form(client, url, consent, action="allow")

    assert done.headers["Location"].startswith(APP_REDIRECT + "?code=myapi_ac_")


def test_a_public_app_exchanges_its_code_with_pkce_alone(
    client: FlaskClient, alice: User, native_app: Credentials, exchange: Callable[..., Any]
) -> None:
    pkce = new_pkce()
    params = authorize_and_allow(client, authorize_query(native_app.client_id, pkce))

    response = exchange(native_app, params["code"], pkce.verifier)

    assert response.status_code == 200, response.json
    assert response.json["scope"] == "notes:read"


def test_a_loopback_redirect_matches_on_any_port(
    client: FlaskClient, alice: User, native_app: Credentials, exchange: Callable[..., Any]
) -> None:
    pkce = new_pkce()
    redirect = "http://127.0.0.1:51234/callback"
    url = authorize_query(native_app.client_id, pkce, redirect_uri=redirect)

    consent = sign_in(client, url)
    done = post_form(client, url, consent, action="allow")
    code = redirect_params(done)["code"]

    assert done.headers["Location"].startswith(redirect + "?")
    assert exchange(native_app, code, pkce.verifier, redirect_uri=redirect).status_code == 200


def test_authlibs_oauth2_session_completes_the_flow(
    client: FlaskClient, alice: User, web_app: Credentials
) -> None:
    session = OAuth2Session(
        web_app.client_id,
        web_app.secret,
        scope="notes:read",
        redirect_uri=APP_REDIRECT,
        code_challenge_method="S256",
    )
    session.mount("http://localhost", FlaskTransport(client))
    verifier = secrets.token_urlsafe(48)
    url, state = session.create_authorization_url(
        "http://localhost/oauth/authorize", code_verifier=verifier
    )
    path = url.removeprefix("http://localhost")
    consent = sign_in(client, path)
    callback = post_form(client, path, consent, action="allow").headers["Location"]

    token = session.fetch_token(
        "http://localhost/oauth/token",
        authorization_response=callback,
        state=state,
        code_verifier=verifier,
    )
    notes = session.get("http://localhost/api/v1/notes")

    assert token["scope"] == "notes:read"
    assert notes.status_code == 200
