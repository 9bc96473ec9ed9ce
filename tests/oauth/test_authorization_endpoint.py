"""The authorization endpoint: what redirects to the app, what never does, and the pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from myapi.models import User
from tests.helpers.authorization import (
    APP_REDIRECT,
    authorize_and_allow,
    authorize_query,
    csrf_of,
    new_pkce,
    post_form,
    redirect_params,
    sign_in,
)
from tests.helpers.http import PASSWORD
from tests.helpers.logs import LogLines
from tests.helpers.oauth import Credentials


def assert_error_page(response: Any) -> None:
    """Shown here, never a redirect: no Location, an HTML page, 400."""
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "Location" not in response.headers
    assert response.mimetype == "text/html"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        APP_REDIRECT + "/",  # trailing slash
        APP_REDIRECT + "/more",  # extra path
        "https://app.example:8443/callback",  # other port
        "http://app.example/callback",  # other scheme
        "https://evil.example@app.example/callback",  # userinfo
        "https://app.example%2F@evil.example/callback",  # encoded characters
        "https://app.example/%63allback",  # an encoded letter of the registered path
        "https://APP.example/callback",  # case
        "https://app.example/callback?x=1",  # added query
        "https://app.example/callback#frag",  # fragment
        "https://evil.example/callback",
        "",
        None,  # missing
    ],
)
def test_a_redirect_uri_not_registered_exactly_never_redirects(
    client: FlaskClient, web_app: Credentials, redirect_uri: str | None
) -> None:
    response = client.get(authorize_query(web_app.client_id, new_pkce(), redirect_uri=redirect_uri))

    assert_error_page(response)


def test_an_unknown_client_never_redirects(client: FlaskClient) -> None:
    response = client.get(authorize_query("client_" + "0" * 24, new_pkce()))

    assert_error_page(response)


def test_errors_through_an_unregistered_redirect_uri_never_redirect(
    client: FlaskClient, web_app: Credentials
) -> None:
    """The open-redirect attempt: a bad request AND a foreign redirect URI."""
    url = authorize_query(
        web_app.client_id, new_pkce(), redirect_uri="https://evil.example/", scope="admin"
    )

    assert_error_page(client.get(url))


def test_a_disabled_client_never_redirects(
    client: FlaskClient, web_app: Credentials, app: Any
) -> None:
    from myapi.services.clients import find_client, set_client_active

    set_client_active(find_client(web_app.client_id), False)

    assert_error_page(client.get(authorize_query(web_app.client_id, new_pkce())))


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),  # means plain
        ({"scope": "notes:read users:write"}, "invalid_scope"),  # beyond the app's allowance
        ({"scope": "introspect"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"prompt": "select_account"}, "invalid_request"),
    ],
)
def test_a_bad_request_with_a_valid_client_and_redirect_goes_back_with_an_error(
    client: FlaskClient, web_app: Credentials, params: dict[str, str | None], error: str
) -> None:
    response = client.get(authorize_query(web_app.client_id, new_pkce(), **params))

    back = redirect_params(response)
    assert response.headers["Location"].startswith(APP_REDIRECT + "?")
    assert back["error"] == error
    assert back["state"] == "xyz-state"
    assert back["iss"] == "myapi"
    assert "code" not in back


def test_the_pages_refuse_framing_and_caching_and_load_nothing_foreign(
    client: FlaskClient, web_app: Credentials
) -> None:
    page = client.get(authorize_query(web_app.client_id, new_pkce()))

    csp = page.headers["Content-Security-Policy"]
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'none'" in csp
    assert "style-src 'nonce-" in csp
    assert "script-src" not in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    assert len(page.headers.getlist("Content-Security-Policy")) == 1
    assert "<script" not in page.get_data(as_text=True)


def test_the_sign_in_cookie_is_httponly_lax_and_short_lived(
    client: FlaskClient, alice: User, web_app: Credentials
) -> None:
    url = authorize_query(web_app.client_id, new_pkce())

    consent = sign_in(client, url)

    cookie = next(
        value for value in consent.headers.getlist("Set-Cookie")
        if value.startswith("myapi_authorize=")
    )  # fmt: skip
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/oauth/authorize" in cookie
    assert "Max-Age=600" in cookie


def test_a_wrong_password_shows_the_page_again_with_an_announced_error(
    client: FlaskClient, alice: User, web_app: Credentials, logs: LogLines
) -> None:
    url = authorize_query(web_app.client_id, new_pkce())
    page = client.get(url)

    again = post_form(client, url, page, action="sign-in", username="alice", password="wrong")

    assert again.status_code == 401
    assert 'role="alert"' in again.get_data(as_text=True)
    assert "Location" not in again.headers
    assert logs.events("login_failed")[-1]["via"] == "authorize"


def test_the_consent_page_names_the_app_the_scopes_and_the_user(
    client: FlaskClient, alice: User, web_app: Credentials
) -> None:
    url = authorize_query(web_app.client_id, new_pkce(), scope="notes:read notes:write")

    text = sign_in(client, url).get_data(as_text=True)

    assert "reporting" in text  # the app's name
    assert "Read your notes" in text
    assert "Create, change and delete your notes" in text
    assert "alice@example.com" in text


@pytest.mark.parametrize("token", [None, "0" * 64])
def test_the_consent_form_refuses_a_missing_or_forged_csrf_value(
    client: FlaskClient, alice: User, web_app: Credentials, token: str | None
) -> None:
    url = authorize_query(web_app.client_id, new_pkce())
    sign_in(client, url)
    form = {"action": "allow"} | ({"csrf_token": token} if token else {})

    response = client.post(url, data=form)

    assert_error_page(response)


def test_a_csrf_value_is_useless_without_the_browsers_own_cookie(
    app: Any, alice: User, web_app: Credentials
) -> None:
    """A cross-site form (another browser's value, or no cookie) cannot decide for the user."""
    victim, attacker = app.test_client(), app.test_client()
    url = authorize_query(web_app.client_id, new_pkce())
    sign_in(victim, url)
    attackers_value = csrf_of(attacker.get(url))

    response = victim.post(url, data={"action": "allow", "csrf_token": attackers_value})

    assert_error_page(response)


def test_deny_sends_access_denied_back_to_the_app(
    client: FlaskClient, alice: User, web_app: Credentials, logs: LogLines
) -> None:
    url = authorize_query(web_app.client_id, new_pkce())
    consent = sign_in(client, url)

    back = redirect_params(post_form(client, url, consent, action="deny"))

    assert back["error"] == "access_denied"
    assert back["state"] == "xyz-state"
    assert "code" not in back
    assert logs.events("consent_denied")[-1]["client_id"] == web_app.client_id


def test_consent_is_remembered_for_the_same_scopes(
    client: FlaskClient, alice: User, web_app: Credentials, logs: LogLines
) -> None:
    authorize_and_allow(client, authorize_query(web_app.client_id, new_pkce()))

    again = client.get(authorize_query(web_app.client_id, new_pkce()))

    assert "code" in redirect_params(again)
    assert len(logs.events("consent_granted")) == 1


def test_a_scope_not_yet_allowed_asks_again(
    client: FlaskClient, alice: User, web_app: Credentials
) -> None:
    authorize_and_allow(client, authorize_query(web_app.client_id, new_pkce()))

    wider = client.get(
        authorize_query(web_app.client_id, new_pkce(), scope="notes:read notes:write")
    )

    assert wider.status_code == 200
    assert "Create, change and delete your notes" in wider.get_data(as_text=True)


def test_prompt_consent_always_asks(client: FlaskClient, alice: User, web_app: Credentials) -> None:
    authorize_and_allow(client, authorize_query(web_app.client_id, new_pkce()))

    again = client.get(authorize_query(web_app.client_id, new_pkce(), prompt="consent"))

    assert again.status_code == 200
    assert 'value="allow"' in again.get_data(as_text=True)


def test_prompt_login_asks_for_the_password_again(
    client: FlaskClient, alice: User, web_app: Credentials
) -> None:
    authorize_and_allow(client, authorize_query(web_app.client_id, new_pkce()))

    again = client.get(authorize_query(web_app.client_id, new_pkce(), prompt="login"))

    assert 'name="password"' in again.get_data(as_text=True)


def test_prompt_none_without_a_sign_in_answers_login_required(
    client: FlaskClient, web_app: Credentials
) -> None:
    back = redirect_params(
        client.get(authorize_query(web_app.client_id, new_pkce(), prompt="none"))
    )

    assert back["error"] == "login_required"


def test_prompt_none_without_consent_answers_consent_required(
    client: FlaskClient, alice: User, web_app: Credentials
) -> None:
    sign_in(client, authorize_query(web_app.client_id, new_pkce()))

    back = redirect_params(
        client.get(authorize_query(web_app.client_id, new_pkce(), prompt="none"))
    )

    assert back["error"] == "consent_required"


def test_prompt_none_with_consent_returns_a_code_without_a_page(
    client: FlaskClient, alice: User, web_app: Credentials
) -> None:
    authorize_and_allow(client, authorize_query(web_app.client_id, new_pkce()))

    back = redirect_params(
        client.get(authorize_query(web_app.client_id, new_pkce(), prompt="none"))
    )

    assert back["code"].startswith("myapi_ac_")


def test_a_user_cannot_grant_scopes_their_role_lacks(
    client: FlaskClient,
    alice: User,
    make_client: Callable[..., Credentials],
    exchange: Callable[..., Any],
) -> None:
    admin_app = make_client(
        "notes:read users:read", grants=("authorization_code",), redirect_uris=(APP_REDIRECT,)
    )
    pkce = new_pkce()

    params = authorize_and_allow(
        client, authorize_query(admin_app.client_id, pkce, scope="notes:read users:read")
    )

    assert exchange(admin_app, params["code"], pkce.verifier).json["scope"] == "notes:read"


def test_logging_out_everywhere_ends_the_sign_in_at_the_pages(
    client: FlaskClient, alice: User, alice_headers: dict[str, str], web_app: Credentials
) -> None:
    url = authorize_query(web_app.client_id, new_pkce())
    sign_in(client, url)

    client.post("/auth/logout-all", headers=alice_headers)

    assert 'name="password"' in client.get(url).get_data(as_text=True)


def test_the_sign_in_page_limits_wrong_passwords_per_account_like_login(
    client: FlaskClient, alice: User, web_app: Credentials
) -> None:
    url = authorize_query(web_app.client_id, new_pkce())
    page = client.get(url)

    failures = [
        post_form(client, url, page, action="sign-in", username="alice", password="wrong")
        for _ in range(5)
    ]
    sixth = post_form(client, url, page, action="sign-in", username="ALICE", password=PASSWORD)

    assert [response.status_code for response in failures] == [401] * 5
    assert sixth.status_code == 429


def test_successful_sign_ins_do_not_use_up_the_account_limit(
    app: Any, alice: User, web_app: Credentials
) -> None:
    url = authorize_query(web_app.client_id, new_pkce())

    answers = [sign_in(app.test_client(), url).status_code for _ in range(7)]

    assert answers == [200] * 7


def test_prompt_login_signs_in_once_then_returns_to_the_app(
    client: FlaskClient, alice: User, web_app: Credentials
) -> None:
    authorize_and_allow(client, authorize_query(web_app.client_id, new_pkce()))
    url = authorize_query(web_app.client_id, new_pkce(), prompt="login")

    after_sign_in = sign_in(client, url)

    assert "code" in redirect_params(after_sign_in)


def test_a_refused_request_is_audited_without_echoing_what_the_caller_sent(
    client: FlaskClient, logs: LogLines
) -> None:
    client.get(authorize_query("client_evil\r\nforged: line", new_pkce()))

    event = logs.events("oauth_authorization_refused")[-1]
    assert event["client_id"] is None
    assert event["error"] == "invalid_client"


def test_allow_and_deny_do_not_count_as_sign_in_attempts(
    app: Any, make_user: Callable[..., User], web_app: Credentials
) -> None:
    """Many users allowing apps from one address (a campus, a NAT) are not throttled."""
    answers = []
    for n in range(8):
        make_user(f"user{n}")
        browser = app.test_client()
        answers.append(authorize_and_allow(browser, authorize_query(web_app.client_id, new_pkce()),
                                           username=f"user{n}"))  # fmt: skip

    assert all("code" in answer for answer in answers)
