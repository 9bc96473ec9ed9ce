"""End to end in Chromium: the SPA's Connected apps screen lists the example third-party app
the user allowed, and revoking it there ends the app's access on its very next API call.

The API runs in keys mode with examples/third-party-app registered (the fixture of
test_third_party_app.py), with CORS for the SPA, which examples/spa/serve.py serves.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.conftest import axe_violations, spa_serve, sync_api
from tests.e2e.test_spa import confirm, log_in, status
from tests.e2e.test_third_party_app import (
    OAuthStack,
    running_oauth_stack,
    sign_in_at_myapi,
    user_with_a_note,
)

expect = sync_api.expect


@dataclass
class AppsStack:
    oauth: OAuthStack
    spa: str


@pytest.fixture(scope="module")
def apps_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppsStack]:
    spa = spa_serve.make_server("127.0.0.1", 0, "http://127.0.0.1:1")
    spa_origin = f"http://127.0.0.1:{spa.server_address[1]}"
    threading.Thread(target=spa.serve_forever, daemon=True).start()
    try:
        # Access tokens that outlive the test: the app calls the API with the access token
        # it holds (no refresh first), so the refusal is of that token itself.
        with running_oauth_stack(
            tmp_path_factory.mktemp("apps-e2e"),
            CORS_ORIGINS=spa_origin,
            ACCESS_TOKEN_MINUTES="15",
        ) as oauth:
            spa.api = oauth.api
            yield AppsStack(oauth=oauth, spa=spa_origin + "/index.html")
    finally:
        spa.shutdown()
        spa.server_close()


def notes_calls(stack: AppsStack, status_code: int) -> int:
    """How many `GET /api/v1/notes` the API answered with `status_code`, from its log."""
    lines = stack.oauth.api_log.read_text().splitlines()
    return sum(
        1
        for line in lines
        if '"method": "GET", "path": "/api/v1/notes"' in line and f'"status": {status_code}' in line
    )


def test_an_allowed_app_is_listed_and_revoking_it_ends_its_access(
    context: Any, apps_stack: AppsStack, axe_source: str
) -> None:
    username, _ = user_with_a_note(apps_stack.oauth, "Shared with the app")
    app = context.new_page()
    sign_in_at_myapi(app, apps_stack.oauth, username)
    app.get_by_role("button", name="Allow").click()
    expect(app.locator("#notes")).to_contain_text("Shared with the app")

    spa = context.new_page()
    spa.goto(apps_stack.spa)
    log_in(spa, username)
    expect(spa.locator("body")).to_have_attribute("data-state", "in")
    spa.get_by_role("navigation", name="Account").get_by_role("link", name="Connected apps").click()
    expect(spa.get_by_role("heading", level=1)).to_have_text("Connected apps")
    listed = spa.locator("#apps > li")
    expect(listed).to_have_count(1)
    expect(listed.locator(".name")).to_have_text("Notes viewer")
    scopes = listed.get_by_role("list", name="What Notes viewer may do")
    expect(scopes.get_by_role("listitem")).to_have_text(
        [
            "Know who you are on myapi (sign you in)",
            "See your username",
            "Read your notes",
        ]
    )
    expect(listed).to_contain_text("Allowed ")
    expect(listed).to_contain_text("Last used ")
    assert axe_violations(spa, axe_source) == []

    spa.get_by_role("button", name="Revoke access: Notes viewer").click()
    confirm(spa, "Cancel")
    expect(listed).to_have_count(1)
    spa.get_by_role("button", name="Revoke access: Notes viewer").click()
    confirm(spa, "Revoke access")
    expect(status(spa)).to_have_text("Access revoked: Notes viewer.")
    expect(listed).to_have_count(0)
    expect(spa.get_by_text("No connected apps.")).to_be_visible()
    assert axe_violations(spa, axe_source) == []

    refused_before = notes_calls(apps_stack, 401)
    app.reload()  # the app's next call, with the access token it still holds

    expect(app.locator("#ended")).to_be_visible()
    assert notes_calls(apps_stack, 401) == refused_before + 1
    spa.reload()
    expect(spa.locator("body")).to_have_attribute("data-state", "in")
    expect(spa.get_by_text("No connected apps.")).to_be_visible()
