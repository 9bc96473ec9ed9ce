"""`flask clients ...`: the same rules as `myapi.services.clients`, and the secret shown once."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result
from flask import Flask

from tests.helpers.oauth import Credentials, assert_oauth_error, stored_client

SECRET = re.compile(r"client_secret: (myapi_cs_[A-Za-z0-9_-]{43})")
CLIENT_ID = re.compile(r"client_id: +(client_[0-9a-f]{24})")


@pytest.fixture
def cli(app: Flask) -> Callable[..., Result]:
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["clients", *args])


def created(result: Result) -> Credentials:
    assert result.exit_code == 0, result.output
    return Credentials(CLIENT_ID.search(result.output)[1], SECRET.search(result.output)[1])


def test_create_prints_the_id_and_the_secret_once_with_a_warning(
    cli: Callable[..., Result], get_token: Callable[..., Any]
) -> None:
    result = cli("create", "reporting", "--scope", "notes:read users:read")

    credentials = created(result)
    assert "not shown again" in result.output
    assert get_token(credentials).json["scope"] == "notes:read users:read"
    assert credentials.secret not in cli("list").output


def test_create_takes_an_audience(cli: Callable[..., Result]) -> None:
    result = cli("create", "partner", "--scope", "notes:read", "--audience", "https://p.example")

    assert stored_client(created(result).client_id).audience == "https://p.example"


@pytest.mark.parametrize("scope", ["notes:write", "admin", "", "notes:read bogus"])
def test_create_refuses_a_scope_clients_cannot_hold(cli: Callable[..., Result], scope: str) -> None:
    result = cli("create", "bad", "--scope", scope)

    assert result.exit_code != 0
    assert "Error" in result.output


def test_list_shows_each_client_without_secrets(
    cli: Callable[..., Result], reader: Credentials
) -> None:
    result = cli("list")

    assert result.exit_code == 0
    assert reader.client_id in result.output
    assert "notes:read users:read" in result.output
    assert reader.secret not in result.output


def test_rotate_secret_prints_a_new_secret_and_the_old_one_stops_working(
    cli: Callable[..., Result], reader: Credentials, get_token: Callable[..., Any]
) -> None:
    result = cli("rotate-secret", reader.client_id)

    rotated = created(result)
    assert rotated.secret != reader.secret
    assert_oauth_error(get_token(reader), 401, "invalid_client")
    assert get_token(rotated).status_code == 200


def test_disable_and_enable(
    cli: Callable[..., Result], reader: Credentials, get_token: Callable[..., Any]
) -> None:
    assert cli("disable", reader.client_id).exit_code == 0
    assert_oauth_error(get_token(reader), 401, "invalid_client")

    assert cli("enable", reader.client_id).exit_code == 0
    assert get_token(reader).status_code == 200


def test_set_scope_changes_the_allowance(cli: Callable[..., Result], reader: Credentials) -> None:
    result = cli("set-scope", reader.client_id, "--scope", "users:read introspect")

    assert result.exit_code == 0, result.output
    assert stored_client(reader.client_id).scope == "users:read introspect"


def test_delete_removes_the_client(cli: Callable[..., Result], reader: Credentials) -> None:
    result = cli("delete", reader.client_id, "--yes")

    assert result.exit_code == 0
    assert stored_client(reader.client_id) is None


def test_an_unknown_client_id_is_an_error(cli: Callable[..., Result]) -> None:
    for command in ("rotate-secret", "disable", "enable", "delete"):
        result = cli(command, "client_000000000000000000000000")

        assert result.exit_code != 0
        assert "no client" in result.output
