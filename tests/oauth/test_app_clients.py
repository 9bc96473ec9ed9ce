"""Clients for third-party apps: types, grants and redirect URIs, through the CLI and service."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from click.testing import Result
from flask import Flask

from myapi.services.clients import ClientRuleError, create_client
from tests.helpers.oauth import Credentials, assert_oauth_error, stored_client

CLIENT_ID = re.compile(r"client_id: +(client_[0-9a-f]{24})")
APP_URI = "https://app.example/callback"


@pytest.fixture
def cli(app: Flask) -> Callable[..., Result]:
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["clients", *args])


def created_id(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return CLIENT_ID.search(result.output)[1]


def test_a_public_app_is_created_without_a_secret(cli: Callable[..., Result]) -> None:
    result = cli(
        "create", "phone app", "--type", "public", "--scope", "notes:read",
        "--redirect-uri", "http://127.0.0.1/callback",
    )  # fmt: skip

    client = stored_client(created_id(result))
    assert "client_secret" not in result.output
    assert client.client_type == "public"
    assert client.grant_types == "authorization_code"
    assert client.secret_hash == ""


def test_a_confidential_app_has_a_secret_and_its_redirect_uris(cli: Callable[..., Result]) -> None:
    result = cli(
        "create", "web app", "--scope", "notes:read notes:write",
        "--redirect-uri", APP_URI, "--redirect-uri", "https://app.example/other",
    )  # fmt: skip

    client = stored_client(created_id(result))
    assert "client_secret: myapi_cs_" in result.output
    assert client.grant_types == "authorization_code"
    assert client.redirect_uris.split() == [APP_URI, "https://app.example/other"]


def test_without_redirect_uris_a_client_is_a_service_as_before(cli: Callable[..., Result]) -> None:
    client = stored_client(created_id(cli("create", "service", "--scope", "notes:read")))

    assert (client.client_type, client.grant_types) == ("confidential", "client_credentials")


def test_show_and_list_print_type_grants_and_redirect_uris(cli: Callable[..., Result]) -> None:
    client_id = created_id(
        cli("create", "web", "--scope", "notes:read", "--redirect-uri", APP_URI,
            "--grant", "authorization_code", "--grant", "client_credentials")
    )  # fmt: skip

    shown, listed = cli("show", client_id).output, cli("list").output

    assert f"redirect_uri:  {APP_URI}" in shown
    assert "grants:        authorization_code client_credentials" in shown
    assert "confidential" in listed and APP_URI in listed


@pytest.mark.parametrize(
    "uri",
    [
        "http://app.example/callback",  # plain http off loopback
        "http://localhost/callback",  # a name, not a loopback address
        "https://app.example/callback#done",  # fragment
        "https://*.app.example/callback",  # wildcard
        "https://app.example/*",  # wildcard in the path
        "https://user@app.example/callback",  # userinfo
        "https://app.example/call back",  # a space
        "javascript:alert(1)",
        "app.example/callback",  # relative
        "",
    ],
)
def test_a_redirect_uri_breaking_a_rule_is_refused(cli: Callable[..., Result], uri: str) -> None:
    result = cli("create", "bad", "--scope", "notes:read", "--redirect-uri", uri)

    assert result.exit_code != 0
    assert "redirect URI" in result.output


@pytest.mark.parametrize(
    "uri", ["http://127.0.0.1/callback", "http://127.0.0.1:8765/cb", "http://[::1]:9/cb"]
)
def test_loopback_http_redirects_are_accepted_for_native_apps(
    cli: Callable[..., Result], uri: str
) -> None:
    result = cli("create", "native", "--type", "public", "--scope", "notes:read",
                 "--redirect-uri", uri)  # fmt: skip

    assert stored_client(created_id(result)).redirect_uris == uri


def test_a_public_client_cannot_use_client_credentials(cli: Callable[..., Result]) -> None:
    result = cli("create", "x", "--type", "public", "--scope", "notes:read",
                 "--redirect-uri", APP_URI, "--grant", "client_credentials")  # fmt: skip

    assert result.exit_code != 0
    assert "no client_credentials" in result.output


def test_an_app_needs_a_redirect_uri(cli: Callable[..., Result]) -> None:
    result = cli("create", "x", "--scope", "notes:read", "--grant", "authorization_code")

    assert result.exit_code != 0
    assert "needs a redirect URI" in result.output


def test_an_app_may_ask_for_notes_write_but_a_service_may_not(app: Flask) -> None:
    app_client, _ = create_client(
        "app", "notes:write", grants=("authorization_code",), redirect_uris=(APP_URI,)
    )

    assert app_client.scope == "notes:write"
    with pytest.raises(ClientRuleError, match="cannot hold notes:write"):
        create_client("service", "notes:write")


def test_openid_is_refused_in_shared_secret_mode(cli: Callable[..., Result]) -> None:
    result = cli("create", "x", "--scope", "openid", "--redirect-uri", APP_URI)

    assert result.exit_code != 0
    assert "openid needs TOKEN_SIGNING=keys" in result.output


def test_set_redirect_uris_replaces_them(cli: Callable[..., Result]) -> None:
    client_id = created_id(cli("create", "w", "--scope", "notes:read", "--redirect-uri", APP_URI))

    result = cli("set-redirect-uris", client_id, "https://new.example/cb")

    assert result.exit_code == 0, result.output
    assert stored_client(client_id).redirect_uris == "https://new.example/cb"
    assert cli("set-redirect-uris", client_id, "http://new.example/cb").exit_code != 0


def test_a_public_client_has_no_secret_to_rotate(cli: Callable[..., Result]) -> None:
    client_id = created_id(cli("create", "p", "--type", "public", "--scope", "notes:read",
                               "--redirect-uri", APP_URI))  # fmt: skip

    result = cli("rotate-secret", client_id)

    assert result.exit_code != 0
    assert "no secret" in result.output


def test_a_client_with_both_grants_gets_only_client_scopes_for_itself(
    make_client: Callable[..., Credentials], get_token: Callable[..., object]
) -> None:
    both = make_client(
        "notes:read notes:write",
        grants=("authorization_code", "client_credentials"),
        redirect_uris=(APP_URI,),
    )

    assert get_token(both).json["scope"] == "notes:read"
    assert_oauth_error(get_token(both, scope="notes:write"), 400, "invalid_scope")


def test_an_app_without_client_credentials_cannot_use_that_grant(
    make_client: Callable[..., Credentials], get_token: Callable[..., object]
) -> None:
    app_only = make_client("notes:read", grants=("authorization_code",), redirect_uris=(APP_URI,))

    assert_oauth_error(get_token(app_only), 400, "unauthorized_client")
