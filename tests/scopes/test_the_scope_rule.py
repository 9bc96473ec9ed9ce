"""The one scope rule: a credential's scope is what it was granted, narrowed to what its
holder may hold now, in every answer and every token minted from it (issue 11).

Each test runs in both signing modes, on SQLite and on PostgreSQL + Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from myapi.extensions import db
from myapi.models import PersonalAccessToken, User
from myapi.security.scopes import effective_scope, parse_scope
from myapi.services.accounts import set_role
from myapi.services.clients import find_client, set_client_scope
from tests.helpers.http import PASSWORD, bearer, refresh
from tests.helpers.oauth import INTROSPECT, Credentials

ADMIN_SCOPE = "notes:read notes:write users:read users:write"
USER_SCOPE = "notes:read notes:write"


def login(client: FlaskClient, username: str, **extra: str) -> dict[str, Any]:
    response = client.post(
        "/auth/login", json={"username": username, "password": PASSWORD, **extra}
    )
    assert response.status_code == 200, response.json
    return response.json


def make_pat(client: FlaskClient, access_token: str, scope: str) -> Any:
    return client.post(
        "/auth/tokens",
        json={"name": "x", "scope": scope, "expires_in_days": 366},
        headers=bearer(access_token),
    )


def verified_claims(app: Flask, client: FlaskClient, token: str) -> dict[str, Any]:
    """The claims as a resource server checks them: with the secret, or through the JWKS."""
    options = {"verify_aud": False}
    if app.config["TOKEN_SIGNING"] == "secret":
        return jwt.decode(token, app.config["JWT_SECRET_KEY"], ["HS256"], options=options)
    kid = jwt.get_unverified_header(token)["kid"]
    [jwk] = [key for key in client.get("/.well-known/jwks.json").json["keys"] if key["kid"] == kid]
    return jwt.decode(token, jwt.PyJWK(jwk).key, [jwk["alg"]], options=options)


@pytest.fixture
def introspect(client: FlaskClient, make_client: Callable[..., Credentials]) -> Callable:
    resource_server = make_client("introspect")

    def ask(token: str) -> dict[str, Any]:
        response = client.post(INTROSPECT, data={"token": token}, headers=resource_server.basic)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json

    return ask


def demote(user: User) -> None:
    set_role(db.session.get(User, user.id), "user")


def test_the_rule_never_grants_beyond_either_side() -> None:
    granted, allowance = parse_scope("notes:read users:read"), parse_scope(USER_SCOPE)

    effective = effective_scope(granted, allowance)

    assert effective == {"notes:read"}
    assert effective_scope(None, allowance) == frozenset()
    assert effective_scope(ADMIN_SCOPE, frozenset()) == frozenset()


def test_a_narrowed_login_cannot_mint_a_wider_personal_token(
    client: FlaskClient, alice: User
) -> None:
    narrowed = login(client, "alice", scope="notes:read")

    response = make_pat(client, narrowed["access_token"], "notes:read notes:write")

    assert response.status_code == 422
    assert response.json["errors"] == {"scope": ["Beyond what this token may grant: notes:write."]}
    assert db.session.scalar(select(PersonalAccessToken)) is None


def test_an_admin_login_narrowed_to_reading_cannot_mint_a_token_that_changes_users(
    client: FlaskClient, admin: User
) -> None:
    narrowed = login(client, "root", scope="users:read")

    response = make_pat(client, narrowed["access_token"], "users:read users:write")

    assert response.status_code == 422
    assert response.json["errors"] == {"scope": ["Beyond what this token may grant: users:write."]}


def test_a_token_mints_personal_tokens_within_its_own_scope(
    client: FlaskClient, alice: User
) -> None:
    narrowed = login(client, "alice", scope="notes:read")

    response = make_pat(client, narrowed["access_token"], "notes:read")

    assert response.status_code == 201
    assert response.json["scope"] == "notes:read"


def test_a_refresh_after_a_demotion_narrows_the_new_pair(
    app: Flask, client: FlaskClient, admin: User
) -> None:
    tokens = login(client, "root")
    assert tokens["scope"] == ADMIN_SCOPE

    demote(admin)
    refreshed = refresh(client, tokens["refresh_token"])

    assert refreshed.status_code == 200
    assert refreshed.json["scope"] == USER_SCOPE
    for token in (refreshed.json["access_token"], refreshed.json["refresh_token"]):
        assert verified_claims(app, client, token)["scope"] == USER_SCOPE


def test_a_session_stays_narrowed_after_a_demotion_even_if_promoted_again(
    client: FlaskClient, admin: User
) -> None:
    tokens = login(client, "root")
    demote(admin)
    narrowed = refresh(client, tokens["refresh_token"]).json

    set_role(db.session.get(User, admin.id), "admin")
    again = refresh(client, narrowed["refresh_token"]).json

    assert again["scope"] == USER_SCOPE


def test_a_demoted_admins_old_token_is_refused_at_the_admin_routes(
    client: FlaskClient, admin: User
) -> None:
    tokens = login(client, "root")

    demote(admin)

    response = client.get("/api/v1/admin/users", headers=bearer(tokens["access_token"]))
    assert response.status_code == 403


def test_token_info_answers_the_effective_scope_after_a_demotion(
    client: FlaskClient, admin: User
) -> None:
    tokens = login(client, "root")

    demote(admin)

    info = client.get("/auth/token-info", headers=bearer(tokens["access_token"])).json
    assert info["scope"] == USER_SCOPE


def test_introspection_answers_the_effective_scope_of_a_demoted_admins_tokens(
    client: FlaskClient, admin: User, introspect: Callable
) -> None:
    tokens = login(client, "root")
    pat = make_pat(client, tokens["access_token"], "users:read notes:read").json["token"]

    demote(admin)

    assert introspect(tokens["access_token"])["scope"] == USER_SCOPE
    assert introspect(tokens["refresh_token"])["scope"] == USER_SCOPE
    assert introspect(pat) == introspect(pat) | {"active": True, "scope": "notes:read"}


def test_a_demoted_admins_personal_token_keeps_only_what_a_user_may_hold(
    client: FlaskClient, admin: User
) -> None:
    tokens = login(client, "root")
    pat = make_pat(client, tokens["access_token"], "users:read notes:read").json["token"]

    demote(admin)

    assert client.get("/api/v1/admin/users", headers=bearer(pat)).status_code == 403
    assert client.get("/api/v1/notes", headers=bearer(pat)).status_code == 200
    assert client.get("/auth/token-info", headers=bearer(pat)).json["scope"] == "notes:read"


def test_a_client_token_introspects_with_the_scope_its_client_may_hold_now(
    client: FlaskClient,
    make_client: Callable[..., Credentials],
    client_token: Callable[..., str],
    introspect: Callable,
) -> None:
    reporting = make_client("notes:read users:read")
    token = client_token(reporting)
    assert introspect(token)["scope"] == "notes:read users:read"

    set_client_scope(find_client(reporting.client_id), "users:read")

    assert introspect(token)["scope"] == "users:read"
    info = client.get("/auth/token-info", headers=bearer(token)).json
    assert info["scope"] == "users:read"
    assert client.get("/api/v1/notes", headers=bearer(token)).status_code == 403
