"""Connected apps: a user sees which apps act for them and takes that access back at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from myapi.models import User
from myapi.services.accounts import set_active
from tests.helpers.authorization import authorize_query, new_pkce, redirect_params
from tests.helpers.http import PASSWORD, assert_problem, bearer
from tests.helpers.logs import LogLines
from tests.helpers.oauth import TOKEN, Credentials, assert_oauth_error


def notes_status(client: FlaskClient, token: str) -> int:
    return client.get("/api/v1/notes", headers=bearer(token)).status_code


def test_the_list_shows_each_app_with_its_scope_and_last_use(
    client: FlaskClient, alice_headers: dict[str, str], app_tokens: dict[str, Any],
    web_app: Credentials,
) -> None:  # fmt: skip
    apps = client.get("/auth/grants", headers=alice_headers)

    assert apps.status_code == 200
    assert [(a["client_id"], a["name"], a["scope"]) for a in apps.json] == [
        (web_app.client_id, "reporting", "notes:read notes:write")
    ]
    assert apps.json[0]["last_used_at"] is not None


def test_another_users_apps_are_not_listed(
    client: FlaskClient, bob_headers: dict[str, str], app_tokens: dict[str, Any]
) -> None:
    assert client.get("/auth/grants", headers=bob_headers).json == []


def test_withdrawing_ends_the_apps_tokens_at_once_and_forgets_the_consent(
    client: FlaskClient,
    alice_headers: dict[str, str],
    app_tokens: dict[str, Any],
    web_app: Credentials,
    logs: LogLines,
) -> None:
    response = client.delete(f"/auth/grants/{web_app.client_id}", headers=alice_headers)

    assert response.status_code == 204
    assert notes_status(client, app_tokens["access_token"]) == 401
    refreshed = client.post(
        TOKEN,
        data={"grant_type": "refresh_token", "refresh_token": app_tokens["refresh_token"]},
        headers=web_app.basic,
    )
    assert_oauth_error(refreshed, 400, "invalid_grant")
    assert client.get("/auth/grants", headers=alice_headers).json == []
    again = client.get(authorize_query(web_app.client_id, new_pkce(), prompt="none"))
    assert redirect_params(again)["error"] == "consent_required"
    event = logs.events("consent_revoked")[-1]
    assert (event["client_id"], event["sessions_revoked"]) == (web_app.client_id, 1)


def test_withdrawing_an_app_never_allowed_is_a_404(
    client: FlaskClient, alice_headers: dict[str, str], web_app: Credentials
) -> None:
    response = client.delete(f"/auth/grants/{web_app.client_id}", headers=alice_headers)

    assert_problem(response, 404)


def test_an_app_cannot_list_or_withdraw_grants_with_its_own_token(
    client: FlaskClient, app_tokens: dict[str, Any], web_app: Credentials
) -> None:
    headers = bearer(app_tokens["access_token"])

    assert_problem(client.get("/auth/grants", headers=headers), 403)
    assert_problem(client.delete(f"/auth/grants/{web_app.client_id}", headers=headers), 403)


def test_withdrawing_leaves_the_users_own_sessions_alone(
    client: FlaskClient,
    alice_headers: dict[str, str],
    app_tokens: dict[str, Any],
    web_app: Credentials,
) -> None:
    client.delete(f"/auth/grants/{web_app.client_id}", headers=alice_headers)

    assert client.get("/auth/me", headers=alice_headers).status_code == 200


def test_the_users_sessions_list_does_not_show_app_grants(
    client: FlaskClient, alice_headers: dict[str, str], app_tokens: dict[str, Any]
) -> None:
    sessions = client.get("/auth/sessions", headers=alice_headers).json

    assert len(sessions) == 1
    assert sessions[0]["current"] is True


@pytest.mark.parametrize("ending", ["logout-all", "password change", "disable"])
def test_ending_every_credential_of_the_user_ends_app_tokens_too(
    client: FlaskClient,
    alice: User,
    alice_headers: dict[str, str],
    app_tokens: dict[str, Any],
    login: Callable[..., dict[str, Any]],
    ending: str,
) -> None:
    if ending == "logout-all":
        client.post("/auth/logout-all", headers=alice_headers)
    elif ending == "password change":
        fresh = bearer(login("alice")["access_token"])
        change = {"current_password": PASSWORD, "new_password": "another long passphrase 42"}
        assert client.put("/auth/password", json=change, headers=fresh).status_code == 204
    else:
        set_active(alice, False)

    assert notes_status(client, app_tokens["access_token"]) == 401
