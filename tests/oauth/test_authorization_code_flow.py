"""The authorization code flow end to end: a user lets an app act for them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
from flask.testing import FlaskClient

from myapi.models import User
from tests.helpers.authorization import (
    APP_REDIRECT,
    authorize_and_allow,
    authorize_query,
    new_pkce,
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
    pkce = new_pkce()

    page = client.get(authorize_query(web_app.client_id, pkce))
    assert page.status_code == 200
    from tests.helpers.authorization import post_form, sign_in

    url = authorize_query(web_app.client_id, pkce)
    consent = sign_in(client, url)
    done = post_form(client, url, consent, action="allow")

    assert done.headers["Location"].startswith(APP_REDIRECT + "?code=myapi_ac_")
