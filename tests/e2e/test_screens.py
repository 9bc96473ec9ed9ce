"""The account screens: password change, personal access tokens, notes pagination, and the
confirmations and wording around them."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

from tests.e2e.conftest import Stack, sync_api
from tests.e2e.test_spa import (
    add_note,
    alert,
    confirm,
    log_in,
    note,
    register,
    status,
)
from tests.helpers.http import PASSWORD

expect = sync_api.expect
NEW_PASSWORD = "a different long passphrase 2"


def api_get(stack: Stack, path: str, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(stack.api + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def api_post(stack: Stack, path: str, token: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        stack.api + path,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


def go(page: Any, screen: str) -> None:
    page.get_by_role("navigation", name="Account").get_by_role("link", name=screen).click()
    expect(page.get_by_role("heading", level=1)).to_be_focused()


def test_changing_the_password_after_a_reload_confirms_it_and_leaves_one_session(
    page: Any, stack: Stack
) -> None:
    username, _ = register(page, stack)
    page.reload()  # the token now comes from a refresh: not fresh
    expect(page.locator("body")).to_have_attribute("data-state", "in")
    go(page, "Password")
    form = page.locator("#password-form")

    form.get_by_label("Current password").fill("not my password at all")
    form.get_by_label("New password").fill(NEW_PASSWORD)
    form.get_by_role("button", name="Change password").click()
    expect(form.locator('.field-error[data-for="current_password"]')).to_have_text(
        "That password is not right."
    )
    expect(form.get_by_label("Current password")).to_be_focused()

    form.get_by_label("Current password").fill(PASSWORD)
    form.get_by_role("button", name="Change password").click()
    expect(status(page)).to_have_text(
        "Password changed. Every other session and every personal access token has ended."
    )
    go(page, "Sessions")
    expect(page.locator(".session-list li")).to_have_count(1)  # the replaced one is revoked

    page.get_by_role("button", name="Log out", exact=True).click()
    log_in(page, username, NEW_PASSWORD)
    expect(page.locator("body")).to_have_attribute("data-state", "in")


def test_a_personal_access_token_is_shown_once_copied_listed_and_revoked(
    context: Any, page: Any, stack: Stack
) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.spa)
    register(page, stack)
    page.reload()  # not fresh: the password is asked for
    expect(page.locator("body")).to_have_attribute("data-state", "in")
    go(page, "Access tokens")
    form = page.locator("#token-form")
    expect(page.locator("#tokens-empty")).to_be_visible()

    form.get_by_label("What it is for").fill("backup script")
    form.get_by_label("notes:write").check()
    form.get_by_label("Expires after (days)").fill("7")
    form.get_by_role("button", name="Make token").click()
    expect(form.locator('.field-error[data-for="password"]')).to_contain_text("Enter your password")
    expect(form.get_by_label("Your password")).to_be_focused()

    form.get_by_label("Your password").fill(PASSWORD)
    form.get_by_role("button", name="Make token").click()

    made = page.locator("#token-made")
    expect(made).to_be_visible()
    token = made.get_by_label("Token").input_value()
    assert token.startswith("myapi_pat_")
    made.get_by_role("button", name="Copy token").click()
    expect(status(page)).to_have_text("Token copied to the clipboard.")
    assert page.evaluate("() => navigator.clipboard.readText()") == token
    assert api_get(stack, "/auth/me", token)[0] == 200
    listed = page.locator(".token-list li")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("backup script")
    expect(listed).to_contain_text("May: notes:read notes:write")

    made.get_by_role("button", name="Done, hide the token").click()
    expect(made).to_be_hidden()
    assert token not in page.content()  # shown once: gone from the page

    page.get_by_role("button", name="Revoke token: backup script").click()
    confirm(page, "Cancel")
    expect(listed).to_have_count(1)
    page.get_by_role("button", name="Revoke token: backup script").click()
    confirm(page, "Revoke token")
    expect(listed).to_have_count(0)
    expect(page.locator("#tokens-empty")).to_be_visible()
    assert api_get(stack, "/auth/me", token)[0] == 401


def test_notes_come_in_pages_and_every_page_can_be_reached(page: Any, stack: Stack) -> None:
    _, access_token = register(page, stack)
    for number in range(1, 24):
        api_post(stack, "/api/v1/notes", access_token, {"title": f"Note {number:02}", "body": ""})
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-state", "in")

    expect(page.locator("#note-count")).to_have_text("23 notes")
    expect(page.locator("li.note")).to_have_count(20)
    expect(page.locator("#page-label")).to_have_text("Page 1 of 2")
    expect(page.get_by_role("button", name="Previous page")).to_be_disabled()

    page.get_by_role("button", name="Next page").click()
    expect(page.locator("li.note")).to_have_count(3)
    expect(page.locator("#page-label")).to_have_text("Page 2 of 2")
    expect(page.get_by_role("button", name="Next page")).to_be_disabled()

    page.get_by_role("button", name="Previous page").click()
    expect(page.locator("li.note")).to_have_count(20)


def test_log_out_everywhere_asks_first(page: Any, stack: Stack) -> None:
    register(page, stack)
    go(page, "Sessions")

    page.get_by_role("button", name="Log out everywhere").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Every session, on every browser and device, ends")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator("body")).to_have_attribute("data-state", "in")
    expect(page.get_by_role("button", name="Log out everywhere")).to_be_focused()

    page.get_by_role("button", name="Log out everywhere").click()
    confirm(page, "Log out everywhere")
    expect(page.locator("body")).to_have_attribute("data-state", "out")
    expect(status(page)).to_have_text("Logged out on every device.")


def test_buttons_name_what_they_act_on_and_escape_cancels_an_edit(page: Any, stack: Stack) -> None:
    register(page, stack)
    add_note(page, "Groceries", "Milk")
    add_note(page, "Ideas", "More notes")

    edit = page.get_by_role("button", name="Edit note: Groceries")
    edit.click()
    field = note(page, "Groceries").locator("form.edit").get_by_label("Title")
    expect(field).to_be_focused()
    field.fill("Changed, then abandoned")
    page.keyboard.press("Escape")
    expect(note(page, "Groceries").locator("form.edit")).to_be_hidden()
    expect(edit).to_be_focused()
    expect(page.locator(".note-title")).to_have_text(["Ideas", "Groceries"])

    page.get_by_role("button", name="Delete note: Ideas").click()
    confirm(page, "Delete note")
    expect(page.locator("li.note")).to_have_count(1)
    expect(page.get_by_role("button", name="Edit note: Groceries")).to_be_focused()

    go(page, "Sessions")
    expect(page.locator(".session-list li.current")).to_contain_text(re.compile(r"Signed in .+"))
    expect(page.locator(".session-list li.current")).to_contain_text(re.compile(r"Last active .+"))
    expect(page.locator(".session-list .badge")).to_have_text("This device")
    expect(alert(page)).to_be_empty()
