"""One signed-in app across tabs: tabs share the session, survive a restart, do not race each
other's rotations, and each says so when it is signed out."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from typing import Any

from tests.e2e.conftest import Stack, sync_api
from tests.e2e.test_spa import (
    add_note,
    alert,
    confirm,
    is_post,
    log_in,
    refresh_cookies,
    register,
)
from tests.policy.helpers import claims_of

expect = sync_api.expect


def refreshes_of(*pages: Any) -> list[int]:
    """Collects the status of every POST /auth/refresh the pages make from now on."""
    seen: list[int] = []
    for page in pages:
        page.on(
            "response", lambda r: seen.append(r.status) if is_post("/auth/refresh")(r) else None
        )
    return seen


def signed_in(page: Any, username: str) -> None:
    expect(page.locator("body")).to_have_attribute("data-state", "in")
    expect(page.locator("#who")).to_have_text(username)


def signed_out(page: Any, message: str) -> None:
    expect(page.locator("body")).to_have_attribute("data-state", "out")
    expect(alert(page)).to_have_text(message)


ENDED = (
    "Your session has ended (it expired, was revoked, or was not used for a while). "
    "Please log in again."
)


def test_a_new_tab_joins_the_session_without_rotating_it(
    context: Any, page: Any, stack: Stack
) -> None:
    username, _ = register(page, stack)
    second = context.new_page()
    refreshes = refreshes_of(page, second)

    second.goto(stack.spa)

    signed_in(second, username)
    assert refreshes == []  # the open tab handed its access token over
    second.locator("#note-form").get_by_placeholder("Title").fill("From the second tab")
    second.get_by_role("button", name="Add note").click()
    expect(second.locator(".note-title")).to_have_text(["From the second tab"])


def test_logging_out_in_one_tab_signs_out_every_tab_with_a_message(
    context: Any, page: Any, stack: Stack
) -> None:
    register(page, stack)
    second = context.new_page()
    second.goto(stack.spa)
    expect(second.locator("body")).to_have_attribute("data-state", "in")

    second.get_by_role("button", name="Log out", exact=True).click()

    signed_out(page, "You logged out in another tab.")
    expect(second.locator("body")).to_have_attribute("data-state", "out")
    assert refresh_cookies(context, stack) == []


def test_logging_in_in_one_tab_signs_in_the_others(context: Any, page: Any, stack: Stack) -> None:
    username, _ = register(page, stack)
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page.locator("body")).to_have_attribute("data-state", "out")
    second = context.new_page()
    second.goto(stack.spa)
    expect(second.locator("body")).to_have_attribute("data-state", "out")

    log_in(second, username)

    signed_in(second, username)
    signed_in(page, username)
    expect(page.locator("#status .message-text")).to_have_text("You logged in in another tab.")


def test_a_reload_in_one_tab_keeps_the_others_working(
    context: Any, page: Any, stack: Stack
) -> None:
    username, _ = register(page, stack)
    second = context.new_page()
    second.goto(stack.spa)
    signed_in(second, username)

    second.reload()  # the only tab that asks: the first answers with its token
    signed_in(second, username)
    page.reload()
    signed_in(page, username)

    second.locator("#note-form").get_by_placeholder("Title").fill("After both reloads")
    second.get_by_role("button", name="Add note").click()
    expect(second.locator(".note-title")).to_have_text(["After both reloads"])


def test_a_browser_restart_keeps_the_session_while_the_cookie_lives(
    browser: Any, context: Any, page: Any, stack: Stack
) -> None:
    username, _ = register(page, stack)
    kept = context.storage_state()  # what the profile keeps on disk: cookies and storage
    context.close()

    restarted = browser.new_context(storage_state=kept)
    try:
        again = restarted.new_page()
        refreshes = refreshes_of(again)
        again.goto(stack.spa)

        signed_in(again, username)
        assert refreshes == [200]
    finally:
        restarted.close()


def test_one_refresh_serves_every_tab_when_the_token_is_due(
    context: Any, page: Any, stack: Stack
) -> None:
    # Playwright's clock drives the pages' timers: fifteen minutes pass at once, and every
    # tab's refresh timer fires together.
    context.clock.install()
    username, _ = register(page, stack)
    second = context.new_page()
    second.goto(stack.spa)
    signed_in(second, username)
    refreshes = refreshes_of(page, second)

    context.clock.run_for("15:00")

    page.wait_for_timeout(1000)  # time for a second tab's refresh, were it to make one
    assert refreshes == [200]
    for tab, title in ((page, "First tab after"), (second, "Second tab after")):
        tab.locator("#note-form").get_by_placeholder("Title").fill(title)
        tab.get_by_role("button", name="Add note").click()
        expect(tab.locator(".note-title", has_text=title)).to_be_visible()
    assert refreshes == [200]  # neither tab needed another rotation


def test_a_session_revoked_from_another_browser_signs_out_every_tab_when_it_refreshes(
    browser: Any, context: Any, page: Any, stack: Stack
) -> None:
    context.clock.install()
    username, _ = register(page, stack)
    second = context.new_page()
    second.goto(stack.spa)
    signed_in(second, username)

    phone = browser.new_context(viewport={"width": 375, "height": 740})
    try:
        other = phone.new_page()
        other.goto(stack.spa)
        log_in(other, username)
        signed_in(other, username)
        other.get_by_role("link", name="Sessions").click()
        sessions = other.locator(".session-list li")
        expect(sessions).to_have_count(2)
        expect(other.locator(".session-list li.current .badge")).to_have_text("This device")
        sessions.get_by_role("button", name="Revoke session").click()
        confirm(other, "Revoke session")
        expect(sessions).to_have_count(1)
    finally:
        phone.close()

    context.clock.run_for("15:00")  # the laptop's tabs wake and refresh

    signed_out(page, ENDED)
    signed_out(second, ENDED)


def test_the_sessions_list_refreshes_and_marks_this_device(
    browser: Any, context: Any, page: Any, stack: Stack
) -> None:
    username, _ = register(page, stack)
    page.get_by_role("link", name="Sessions").click()
    sessions = page.locator(".session-list li")
    expect(sessions).to_have_count(1)

    phone = browser.new_context()
    try:
        other = phone.new_page()
        other.goto(stack.spa)
        log_in(other, username)
        signed_in(other, username)
    finally:
        phone.close()
    page.get_by_role("button", name="Refresh the list").click()

    expect(sessions).to_have_count(2)
    expect(page.locator(".session-list li.current")).to_have_count(1)
    expect(page.locator(".session-list li.current .badge")).to_have_text("This device")
    expect(page.locator(".session-list li:not(.current)")).to_contain_text("Last active")


def test_tabs_recover_from_an_access_token_that_expired_while_they_slept(
    browser: Any, short_stack: Stack
) -> None:
    """Access tokens live one minute (no leeway). The tabs sign in with the API's clock and
    the browser's set 35 seconds behind, so the token really expires 25 seconds later; then
    the browser's clock stops (a laptop asleep: no timer fires, no refresh) while the API's
    catches up with the real time, and the tabs hold a token that is really expired."""
    assert short_stack.clock is not None
    behind = 35  # of the token's 60 seconds, 25 are left to sign two tabs in
    short_stack.clock.shift(-behind)
    context = browser.new_context()
    try:
        context.clock.install(time=time.time() - behind)
        page = context.new_page()
        username, first_token = register(page, short_stack)
        second = context.new_page()
        second.goto(short_stack.spa)
        signed_in(second, username)
        context.clock.pause_at(time.time() - behind + 1)  # no timer fires from now on
        refreshes = refreshes_of(page, second)

        posts: list[int] = []
        second.on(
            "response", lambda r: posts.append(r.status) if is_post("/api/v1/notes")(r) else None
        )

        time.sleep(max(0, claims_of(first_token)["exp"] + 1 - time.time()))
        short_stack.clock.shift(0)  # the laptop wakes up
        assert api_status(short_stack, "/auth/me", first_token) == 401
        add_note(second, "After the expiry", "The tab refreshed once and tried again.")
        assert posts == [401, 201]  # refused as expired, refreshed, accepted
        assert refreshes == [200]
        add_note(page, "In the other tab", "It got the new token from the first.")

        assert refreshes == [200]
    finally:
        short_stack.clock.shift(0)
        context.close()


def api_status(stack: Stack, path: str, token: str) -> int:
    request = urllib.request.Request(stack.api + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
