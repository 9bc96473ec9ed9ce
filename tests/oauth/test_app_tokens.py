"""An app's tokens acting for a user: where they are accepted, refresh, and scope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
import pytest
from flask.testing import FlaskClient

from myapi.models import User
from myapi.services.accounts import set_role
from tests.helpers.authorization import APP_REDIRECT, authorize_and_allow, authorize_query, new_pkce
from tests.helpers.clock import Clock
from tests.helpers.http import PASSWORD, assert_problem, bearer
from tests.helpers.logs import LogLines
from tests.helpers.oauth import TOKEN, Credentials, assert_oauth_error


@pytest.fixture
def refresh_grant(client: FlaskClient, web_app: Credentials) -> Callable[..., Any]:
    def post(refresh_token: str, app: Credentials = web_app, **form: str) -> Any:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token} | form
        return client.post(TOKEN, data=data, headers=app.basic)

    return post


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/auth/me", None),
        ("PUT", "/auth/password", {"current_password": "x", "new_password": "y" * 20}),
        ("GET", "/auth/sessions", None),
        ("POST", "/auth/tokens", {"name": "n", "scope": "notes:read", "expires_in_days": 1}),
        ("POST", "/auth/logout-all", None),
    ],
)
def test_an_apps_token_cannot_act_on_the_account_itself(
    client: FlaskClient, app_tokens: dict[str, Any], method: str, path: str, body: Any
) -> None:
    response = client.open(
        path, method=method, json=body, headers=bearer(app_tokens["access_token"])
    )

    assert_problem(response, 403)
    assert response.json["type"] == "urn:myapi:problem:app-token-refused"


def test_an_apps_refresh_token_is_refused_at_the_users_refresh(
    client: FlaskClient, app_tokens: dict[str, Any]
) -> None:
    response = client.post("/auth/refresh", headers=bearer(app_tokens["refresh_token"]))

    assert_problem(response, 403)


def test_an_ordinary_users_grant_never_reaches_the_admin_endpoints(
    client: FlaskClient, app_tokens: dict[str, Any]
) -> None:
    response = client.get("/api/v1/admin/users", headers=bearer(app_tokens["access_token"]))

    assert_problem(response, 403)
    assert response.json["type"] == "urn:myapi:problem:insufficient-scope"


def test_an_admins_grant_reaches_the_admin_endpoints_only_with_the_scope_granted(
    client: FlaskClient,
    admin: User,
    make_client: Callable[..., Credentials],
    exchange: Callable[..., Any],
) -> None:
    admin_app = make_client(
        "notes:read users:read", grants=("authorization_code",), redirect_uris=(APP_REDIRECT,)
    )

    def grant(scope: str) -> str:
        pkce = new_pkce()
        url = authorize_query(admin_app.client_id, pkce, scope=scope, prompt="consent")
        code = authorize_and_allow(client, url, username="root")["code"]
        return exchange(admin_app, code, pkce.verifier).json["access_token"]

    with_scope, without = grant("users:read"), grant("notes:read")

    assert client.get("/api/v1/admin/users", headers=bearer(with_scope)).status_code == 200
    assert client.get("/api/v1/admin/users", headers=bearer(without)).status_code == 403


def test_an_admins_grant_loses_the_admin_scope_when_the_admin_is_demoted(
    client: FlaskClient,
    admin: User,
    make_client: Callable[..., Credentials],
    exchange: Callable[..., Any],
) -> None:
    admin_app = make_client(
        "users:read", grants=("authorization_code",), redirect_uris=(APP_REDIRECT,)
    )
    pkce = new_pkce()
    url = authorize_query(admin_app.client_id, pkce, scope="users:read")
    code = authorize_and_allow(client, url, username="root")["code"]
    token = exchange(admin_app, code, pkce.verifier).json["access_token"]

    set_role(admin, "user")

    assert client.get("/api/v1/admin/users", headers=bearer(token)).status_code == 403


def test_refresh_rotates_the_pair(
    client: FlaskClient, app_tokens: dict[str, Any], refresh_grant: Callable[..., Any]
) -> None:
    response = refresh_grant(app_tokens["refresh_token"])

    assert response.status_code == 200, response.json
    assert response.json["refresh_token"] != app_tokens["refresh_token"]
    assert response.json["scope"] == "notes:read notes:write"
    notes = client.get("/api/v1/notes", headers=bearer(response.json["access_token"]))
    assert notes.status_code == 200


def test_a_reused_refresh_token_ends_the_whole_grant(
    client: FlaskClient,
    clock: Clock,
    app_tokens: dict[str, Any],
    refresh_grant: Callable[..., Any],
) -> None:
    second = refresh_grant(app_tokens["refresh_token"]).json

    clock.advance(seconds=3600)
    reuse = refresh_grant(app_tokens["refresh_token"])

    assert_oauth_error(reuse, 400, "invalid_grant")
    assert_oauth_error(refresh_grant(second["refresh_token"]), 400, "invalid_grant")


def test_a_retry_inside_the_grace_window_gets_the_same_pair(
    app_tokens: dict[str, Any], refresh_grant: Callable[..., Any]
) -> None:
    first = refresh_grant(app_tokens["refresh_token"]).json

    retry = refresh_grant(app_tokens["refresh_token"])

    assert retry.status_code == 200
    assert retry.json["refresh_token"] == first["refresh_token"]


def test_refresh_cannot_widen_the_scope(
    app_tokens: dict[str, Any], refresh_grant: Callable[..., Any]
) -> None:
    narrowed = refresh_grant(app_tokens["refresh_token"], scope="notes:read").json

    wider = refresh_grant(narrowed["refresh_token"], scope="notes:read notes:write")

    assert narrowed["scope"] == "notes:read"
    assert_oauth_error(wider, 400, "invalid_scope")


def test_refresh_follows_a_narrowed_app_allowance(
    app_tokens: dict[str, Any], refresh_grant: Callable[..., Any], web_app: Credentials
) -> None:
    from myapi.services.clients import find_client, set_client_scope

    set_client_scope(find_client(web_app.client_id), "notes:read")

    assert refresh_grant(app_tokens["refresh_token"]).json["scope"] == "notes:read"


def test_another_app_cannot_use_the_refresh_token(
    app_tokens: dict[str, Any],
    refresh_grant: Callable[..., Any],
    make_client: Callable[..., Credentials],
) -> None:
    other = make_client("notes:read", grants=("authorization_code",), redirect_uris=(APP_REDIRECT,))

    assert_oauth_error(refresh_grant(app_tokens["refresh_token"], app=other), 400, "invalid_grant")


def test_a_users_own_refresh_token_is_not_an_apps(
    alice_tokens: dict[str, Any], refresh_grant: Callable[..., Any]
) -> None:
    assert_oauth_error(refresh_grant(alice_tokens["refresh_token"]), 400, "invalid_grant")


def test_disabling_the_app_ends_its_users_grants(
    client: FlaskClient, app_tokens: dict[str, Any], web_app: Credentials
) -> None:
    from myapi.services.clients import find_client, set_client_active

    set_client_active(find_client(web_app.client_id), False)

    assert (
        client.get("/api/v1/notes", headers=bearer(app_tokens["access_token"])).status_code == 401
    )


def test_the_app_can_revoke_its_own_token(
    client: FlaskClient, app_tokens: dict[str, Any], web_app: Credentials
) -> None:
    client.post("/oauth/revoke", data={"token": app_tokens["refresh_token"]}, headers=web_app.basic)

    assert (
        client.get("/api/v1/notes", headers=bearer(app_tokens["access_token"])).status_code == 401
    )


def test_a_public_app_revokes_its_grant_with_its_client_id_alone(
    client: FlaskClient, alice: User, native_app: Credentials, exchange: Callable[..., Any]
) -> None:
    pkce = new_pkce()
    code = authorize_and_allow(client, authorize_query(native_app.client_id, pkce))["code"]
    tokens = exchange(native_app, code, pkce.verifier).json

    revoked = client.post(
        "/oauth/revoke", data={"token": tokens["refresh_token"], "client_id": native_app.client_id}
    )

    assert revoked.status_code == 200
    assert client.get("/api/v1/notes", headers=bearer(tokens["access_token"])).status_code == 401


def test_a_confidential_app_cannot_revoke_without_its_secret(
    client: FlaskClient, app_tokens: dict[str, Any], web_app: Credentials
) -> None:
    response = client.post(
        "/oauth/revoke", data={"token": app_tokens["refresh_token"], "client_id": web_app.client_id}
    )

    assert_oauth_error(response, 401, "invalid_client")
    assert (
        client.get("/api/v1/notes", headers=bearer(app_tokens["access_token"])).status_code == 200
    )


def test_no_code_token_verifier_secret_or_password_reaches_the_logs(
    client: FlaskClient, alice: User, web_app: Credentials, logs: LogLines
) -> None:
    pkce = new_pkce()
    code = authorize_and_allow(client, authorize_query(web_app.client_id, pkce))["code"]
    tokens = client.post(
        TOKEN,
        data={
            "grant_type": "authorization_code", "code": code, "code_verifier": pkce.verifier,
            "redirect_uri": APP_REDIRECT,
        },
        headers=web_app.basic,
    ).json  # fmt: skip
    client.post(
        TOKEN,
        data={"grant_type": "authorization_code", "code": code, "code_verifier": pkce.verifier,
              "redirect_uri": APP_REDIRECT},
        headers=web_app.basic,
    )  # fmt: skip

    text = logs.text()
    for secret in (code, pkce.verifier, tokens["access_token"], tokens["refresh_token"],
                   web_app.secret, PASSWORD, pkce.challenge):  # fmt: skip
        assert secret not in text
    assert logs.events("authorization_code_reused")


def test_an_apps_refreshes_for_its_users_are_not_limited_per_client(
    app: Any, app_tokens: dict[str, Any], refresh_grant: Callable[..., Any]
) -> None:
    app.config["OAUTH_TOKEN_LIMIT_PER_CLIENT"] = "2 per minute"
    refresh_token = app_tokens["refresh_token"]

    for _ in range(4):
        response = refresh_grant(refresh_token)
        assert response.status_code == 200, response.json
        refresh_token = response.json["refresh_token"]


def test_an_apps_tokens_are_never_fresh(app_tokens: dict[str, Any]) -> None:
    # Freshness is a password typed into this service for this session, never an app's.
    access = jwt.decode(app_tokens["access_token"], options={"verify_signature": False})

    assert access["fresh"] is False
