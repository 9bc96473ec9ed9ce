"""The token endpoint's authorization_code grant: PKCE, single use, lifetime, client proof."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from myapi.models import User
from tests.helpers.authorization import authorize_and_allow, authorize_query, new_pkce
from tests.helpers.clock import Clock
from tests.helpers.http import bearer
from tests.helpers.logs import LogLines
from tests.helpers.oauth import TOKEN, Credentials, assert_oauth_error


@pytest.fixture
def issued(client: FlaskClient, alice: User, web_app: Credentials) -> Callable[..., Any]:
    """A fresh code for the web app, with the PKCE verifier that goes with it."""

    def issue(app: Credentials = web_app, **params: str) -> tuple[str, str]:
        pkce = new_pkce()
        code = authorize_and_allow(client, authorize_query(app.client_id, pkce, **params))["code"]
        return code, pkce.verifier

    return issue


def test_a_wrong_verifier_is_invalid_grant(
    issued: Callable[..., Any], web_app: Credentials, exchange: Callable[..., Any]
) -> None:
    code, _ = issued()

    assert_oauth_error(exchange(web_app, code, new_pkce().verifier), 400, "invalid_grant")


def test_a_missing_verifier_is_refused(
    issued: Callable[..., Any], web_app: Credentials, exchange: Callable[..., Any]
) -> None:
    code, _ = issued()

    assert_oauth_error(exchange(web_app, code, None), 400, "invalid_request")


def test_the_verifier_itself_as_a_plain_challenge_does_not_pass(
    client: FlaskClient, alice: User, web_app: Credentials, exchange: Callable[..., Any]
) -> None:
    """A downgrade: the app sent its verifier as the challenge (plain); S256 never matches."""
    pkce = new_pkce()
    url = authorize_query(web_app.client_id, pkce, code_challenge=pkce.verifier)
    code = authorize_and_allow(client, url)["code"]

    assert_oauth_error(exchange(web_app, code, pkce.verifier), 400, "invalid_grant")


def test_a_replayed_code_is_refused_and_ends_every_token_issued_from_it(
    client: FlaskClient,
    issued: Callable[..., Any],
    web_app: Credentials,
    exchange: Callable[..., Any],
    logs: LogLines,
) -> None:
    code, verifier = issued()
    first = exchange(web_app, code, verifier).json

    replay = exchange(web_app, code, verifier)

    assert_oauth_error(replay, 400, "invalid_grant")
    assert client.get("/api/v1/notes", headers=bearer(first["access_token"])).status_code == 401
    refreshed = client.post(
        TOKEN,
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        headers=web_app.basic,
    )
    assert_oauth_error(refreshed, 400, "invalid_grant")
    event = logs.events("authorization_code_reused")[-1]
    assert event["client_id"] == web_app.client_id
    assert event["sessions_revoked"] == 1
    assert code not in str(event)


def test_a_code_is_refused_after_sixty_seconds(
    clock: Clock, issued: Callable[..., Any], web_app: Credentials, exchange: Callable[..., Any]
) -> None:
    code, verifier = issued()

    clock.advance(seconds=61)

    assert_oauth_error(exchange(web_app, code, verifier), 400, "invalid_grant")


def test_a_code_is_accepted_just_before_sixty_seconds(
    clock: Clock, issued: Callable[..., Any], web_app: Credentials, exchange: Callable[..., Any]
) -> None:
    code, verifier = issued()

    clock.advance(seconds=59)

    assert exchange(web_app, code, verifier).status_code == 200


def test_a_code_is_bound_to_its_redirect_uri(
    issued: Callable[..., Any], web_app: Credentials, exchange: Callable[..., Any]
) -> None:
    code, verifier = issued()

    response = exchange(web_app, code, verifier, redirect_uri="https://app.example/other")

    assert_oauth_error(response, 400, "invalid_grant")


def test_a_code_is_bound_to_its_client(
    issued: Callable[..., Any],
    make_client: Callable[..., Credentials],
    exchange: Callable[..., Any],
) -> None:
    code, verifier = issued()
    other = make_client(
        "notes:read",
        grants=("authorization_code",),
        redirect_uris=("https://app.example/callback",),
    )

    assert_oauth_error(exchange(other, code, verifier), 400, "invalid_grant")


def test_a_confidential_app_must_authenticate(
    client: FlaskClient, issued: Callable[..., Any], web_app: Credentials
) -> None:
    code, verifier = issued()
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": "https://app.example/callback",
        "client_id": web_app.client_id,
    }

    assert_oauth_error(client.post(TOKEN, data=form), 401, "invalid_client")


def test_a_confidential_app_may_send_its_secret_in_the_form(
    client: FlaskClient, issued: Callable[..., Any], web_app: Credentials
) -> None:
    code, verifier = issued()
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": "https://app.example/callback",
        **web_app.form,
    }

    assert client.post(TOKEN, data=form).status_code == 200


def test_a_secret_sent_two_ways_is_refused(
    client: FlaskClient, issued: Callable[..., Any], web_app: Credentials
) -> None:
    code, verifier = issued()
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": "https://app.example/callback",
        **web_app.form,
    }

    assert_oauth_error(client.post(TOKEN, data=form, headers=web_app.basic), 400, "invalid_request")


@pytest.mark.parametrize("secret", ["", "myapi_cs_" + "a" * 43])
def test_a_public_app_pretending_to_be_confidential_is_refused(
    client: FlaskClient,
    alice: User,
    native_app: Credentials,
    secret: str,
) -> None:
    pkce = new_pkce()
    code = authorize_and_allow(client, authorize_query(native_app.client_id, pkce))["code"]
    pretending = Credentials(native_app.client_id, secret)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": pkce.verifier,
        "redirect_uri": "https://app.example/callback",
    }

    by_basic = client.post(TOKEN, data=form, headers=pretending.basic)
    by_post = client.post(TOKEN, data=form | pretending.form)

    assert_oauth_error(by_basic, 401, "invalid_client")
    assert_oauth_error(by_post, 401, "invalid_client")


def test_a_public_app_without_a_verifier_gets_nothing(
    client: FlaskClient, alice: User, native_app: Credentials, exchange: Callable[..., Any]
) -> None:
    pkce = new_pkce()
    code = authorize_and_allow(client, authorize_query(native_app.client_id, pkce))["code"]

    assert_oauth_error(exchange(native_app, code, None), 400, "invalid_request")


def test_an_unknown_code_is_invalid_grant(
    web_app: Credentials, exchange: Callable[..., Any]
) -> None:
    assert_oauth_error(
        exchange(web_app, "myapi_ac_" + "a" * 43, new_pkce().verifier), 400, "invalid_grant"
    )


def test_a_code_for_a_disabled_user_opens_nothing(
    alice: User, issued: Callable[..., Any], web_app: Credentials, exchange: Callable[..., Any]
) -> None:
    from myapi.services.accounts import set_active

    code, verifier = issued()
    set_active(alice, False)

    assert_oauth_error(exchange(web_app, code, verifier), 400, "invalid_grant")


def test_prune_keeps_a_spent_code_for_a_day_then_deletes_it(
    app: Any,
    clock: Clock,
    issued: Callable[..., Any],
    web_app: Credentials,
    exchange: Callable[..., Any],
) -> None:
    code, verifier = issued()
    exchange(web_app, code, verifier)
    result = app.test_cli_runner().invoke(args=["tokens", "prune"])
    assert "0 authorization code(s) and 0 sign-in(s)" in result.output

    clock.advance(days=1, seconds=61)
    result = app.test_cli_runner().invoke(args=["tokens", "prune"])

    assert "1 authorization code(s) and 1 sign-in(s)" in result.output
