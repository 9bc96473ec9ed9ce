"""End to end in Chromium: examples/third-party-app signs a user in with myapi and lists
their notes; Deny, remembered consent, prompt=none, and withdrawing the app's access.

The API runs under gunicorn in keys mode (OpenID Connect needs the asymmetric keys), the
example app under its own Flask server, both on loopback ports of their own.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from tests.e2e.conftest import sync_api
from tests.helpers.http import PASSWORD
from tests.loopback import free_port
from tests.production.servers import BIN, ROOT, Host, call, wait_until

APP = ROOT / "examples" / "third-party-app" / "app.py"
expect = sync_api.expect


@dataclass
class OAuthStack:
    api: str
    app: str
    client_id: str
    api_log: Path


@pytest.fixture(scope="module")
def oauth_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OAuthStack]:
    # A minute: inside the 60 s margin Authlib's client keeps before expiry, so the app
    # refreshes the pair before every call to the API.
    with running_oauth_stack(tmp_path_factory.mktemp("oauth-e2e"), ACCESS_TOKEN_MINUTES="1") as up:
        yield up


@contextmanager
def running_oauth_stack(tmp: Path, **settings: str) -> Iterator[OAuthStack]:
    """The API in keys mode (`settings` on top) with the example app registered, and the app."""
    api_port, app_port = free_port(), free_port()
    api_url, app_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{app_port}"
    env = {
        "MYAPI_CONFIG": "production",
        "JWT_SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": f"sqlite:///{tmp / 'oauth.db'}",
        "REDIS_URL": "",
        "RATELIMIT_STORAGE_URI": "memory://",
        "HTTPS_ONLY": "false",
        "PUBLIC_URL": api_url,
        "JWT_ISSUER": api_url,
        "TOKEN_SIGNING": "keys",
        "SIGNING_KEY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "4",
        "REGISTER_LIMIT_PER_IP": "1000 per minute",
        "LOGIN_LIMIT_PER_IP": "1000 per minute",
        "RATELIMIT_DEFAULT": "10000 per minute",
    } | settings

    def flask(*args: str) -> str:
        result = subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", *args],
            cwd=ROOT,
            env=os.environ | env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    flask("db", "upgrade")
    flask("keys", "generate")
    created = flask(
        "clients", "create", "Notes viewer", "--scope", "openid profile notes:read",
        "--redirect-uri", f"{app_url}/callback",
    )  # fmt: skip
    client_id = re.search(r"client_id: +(\S+)", created)[1]
    secret = re.search(r"client_secret: +(\S+)", created)[1]
    api = Host(env=env, log_path=tmp / "gunicorn.log", port=api_port).start()
    app_env = os.environ | {
        "MYAPI_URL": api_url,
        "APP_URL": app_url,
        "CLIENT_ID": client_id,
        "CLIENT_SECRET": secret,
    }
    log = (tmp / "app.log").open("ab")
    app = subprocess.Popen([sys.executable, str(APP)], env=app_env, stdout=log, stderr=log)
    try:  # both servers stop however the tests (or the start-up) end
        wait_until(lambda: _answers(app_url + "/"), "the example app")
        yield OAuthStack(
            api=api_url, app=app_url, client_id=client_id, api_log=tmp / "gunicorn.log"
        )
    finally:
        app.terminate()
        app.wait(timeout=10)
        api.stop()


def _answers(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status == 200


def user_with_a_note(stack: OAuthStack, title: str) -> tuple[str, str]:
    """A new account with one note; returns its username and an access token."""
    username = "u" + secrets.token_hex(5)
    account = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    assert call(stack.api + "/auth/register", "POST", account).status == 201
    login = call(stack.api + "/auth/login", "POST", {"username": username, "password": PASSWORD})
    token = login.body["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert call(stack.api + "/api/v1/notes", "POST", {"title": title}, headers).status == 201
    return username, token


def sign_in_at_myapi(page: Any, stack: OAuthStack, username: str) -> None:
    """From the app's home page: to myapi's sign-in page, and sign in there."""
    page.goto(stack.app + "/")
    page.click("#sign-in")
    expect(page).to_have_url(re.compile(re.escape(stack.api + "/oauth/authorize?")))
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_with_myapi_then_the_app_lists_the_users_notes(
    page: Any, oauth_stack: OAuthStack
) -> None:
    username, _ = user_with_a_note(oauth_stack, "Buy milk")

    sign_in_at_myapi(page, oauth_stack, username)
    expect(page.get_by_role("heading")).to_contain_text("Allow")
    expect(page.get_by_text("Read your notes")).to_be_visible()
    page.get_by_role("button", name="Allow").click()

    expect(page).to_have_url(oauth_stack.app + "/")
    expect(page.locator("#who")).to_have_text(username)
    expect(page.locator("#notes")).to_contain_text("Buy milk")


def test_the_app_refreshes_its_tokens_and_keeps_working(page: Any, oauth_stack: OAuthStack) -> None:
    username, _ = user_with_a_note(oauth_stack, "Still here")
    sign_in_at_myapi(page, oauth_stack, username)
    page.get_by_role("button", name="Allow").click()
    expect(page.locator("#notes")).to_contain_text("Still here")
    refreshed_before = oauth_stack.api_log.read_text().count('"event": "token_refreshed"')

    page.reload()
    page.reload()

    expect(page.locator("#notes")).to_contain_text("Still here")
    refreshed = oauth_stack.api_log.read_text().count('"event": "token_refreshed"')
    assert refreshed >= refreshed_before + 2


def test_deny_sends_the_user_back_without_access(page: Any, oauth_stack: OAuthStack) -> None:
    username, _ = user_with_a_note(oauth_stack, "Secret")

    sign_in_at_myapi(page, oauth_stack, username)
    page.get_by_role("button", name="Deny").click()

    expect(page.locator("#error")).to_contain_text("access_denied")


def test_consent_is_remembered_on_the_next_sign_in(
    browser: Any, page: Any, oauth_stack: OAuthStack
) -> None:
    username, _ = user_with_a_note(oauth_stack, "Remembered")
    sign_in_at_myapi(page, oauth_stack, username)
    page.get_by_role("button", name="Allow").click()
    expect(page.locator("#notes")).to_contain_text("Remembered")
    other = browser.new_context().new_page()

    sign_in_at_myapi(other, oauth_stack, username)

    expect(other.locator("#notes")).to_contain_text("Remembered")
    other.context.close()


def test_prompt_none_signs_in_silently_or_says_login_required(
    browser: Any, page: Any, oauth_stack: OAuthStack
) -> None:
    username, _ = user_with_a_note(oauth_stack, "Silent")
    sign_in_at_myapi(page, oauth_stack, username)
    page.get_by_role("button", name="Allow").click()
    page.click("#sign-out")
    stranger = browser.new_context().new_page()

    page.click("#silent")
    stranger.goto(oauth_stack.app + "/")
    stranger.click("#silent")

    expect(page.locator("#notes")).to_contain_text("Silent")
    expect(stranger.locator("#error")).to_contain_text("login_required")
    stranger.context.close()


def test_withdrawing_the_app_ends_its_access_on_its_next_call(
    page: Any, oauth_stack: OAuthStack
) -> None:
    username, token = user_with_a_note(oauth_stack, "Mine")
    sign_in_at_myapi(page, oauth_stack, username)
    page.get_by_role("button", name="Allow").click()
    expect(page.locator("#notes")).to_contain_text("Mine")

    withdrawn = call(
        f"{oauth_stack.api}/auth/grants/{oauth_stack.client_id}",
        "DELETE",
        headers={"Authorization": f"Bearer {token}"},
    )
    page.reload()

    assert withdrawn.status == 204
    expect(page.locator("#ended")).to_be_visible()


def test_the_pages_look_tidy_on_a_phone(browser: Any, oauth_stack: OAuthStack) -> None:
    """375 px wide: the form fits without sideways scrolling."""
    phone = browser.new_context(viewport={"width": 375, "height": 740}).new_page()
    phone.goto(oauth_stack.app + "/")
    phone.click("#sign-in")

    width = phone.evaluate("document.documentElement.scrollWidth")

    assert width <= 375
    expect(phone.get_by_label("Username or email")).to_be_focused()
    phone.context.close()
