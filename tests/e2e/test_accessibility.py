"""Accessibility: axe-core on every screen (no serious or critical violation), 375 pixels,
focus, keyboard use, the message regions, and what the page says when it cannot start."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import WAIT_MS, Stack, axe_violations, sync_api
from tests.e2e.test_screens import go
from tests.e2e.test_spa import add_note, alert, register

expect = sync_api.expect
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 860}


@pytest.fixture(params=[PHONE, DESKTOP], ids=["375px", "1280px"])
def sized_page(request: pytest.FixtureRequest, browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=request.param)
    context.set_default_timeout(WAIT_MS)
    yield context.new_page()
    context.close()


def assert_clean(page: Any, axe_source: str, screen: str) -> None:
    violations = axe_violations(page, axe_source)
    assert violations == [], f"{screen}: {violations}"


def small_targets(page: Any) -> list[str]:
    """Visible buttons, links, inputs and tabs smaller than 44 x 44 CSS pixels (a checkbox
    counts by its label, which is the target)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('button, a[href], input, textarea, [role=tab]')]
          .filter((el) => el.offsetParent !== null && !el.closest('dialog:not([open])'))
          .filter((el) => !el.classList.contains('skip-link'))
          .map((el) => [el, (el.type === 'checkbox' ? el.closest('label') : el)])
          .map(([el, target]) => [el, target.getBoundingClientRect()])
          .filter(([, box]) => box.height < 44 || box.width < 44)
          .map(([el, box]) => `${el.outerHTML.slice(0, 80)} ${box.width}x${box.height}`)"""
    )


def test_every_screen_passes_axe_at_375_and_1280_pixels(
    sized_page: Any, stack: Stack, axe_source: str, artifacts: Any
) -> None:
    page = sized_page
    width = page.viewport_size["width"]
    page.goto(stack.spa)
    expect(page.locator("body")).to_have_attribute("data-state", "out")
    assert_clean(page, axe_source, "login")
    assert small_targets(page) == []
    page.get_by_role("tab", name="Create account").click()
    page.locator("#register-form").get_by_role("button", name="Create account").click()
    expect(alert(page)).not_to_be_empty()  # the form with its errors shown
    assert_clean(page, axe_source, "register with errors")

    register(page, stack)
    add_note(page, "Groceries", "Milk, eggs, bread")
    page.get_by_role("button", name="Edit note: Groceries").click()
    assert_clean(page, axe_source, "notes with an edit open")
    assert small_targets(page) == []
    page.screenshot(path=str(artifacts / f"spa-notes-{width}.png"), full_page=True)
    page.keyboard.press("Escape")

    page.get_by_role("button", name="Delete note: Groceries").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    assert_clean(page, axe_source, "confirmation dialog")
    page.keyboard.press("Escape")

    for screen in ("Sessions", "Access tokens", "Connected apps", "Email", "Password"):
        go(page, screen)
        assert_clean(page, axe_source, screen)
        assert small_targets(page) == [], screen
    go(page, "Access tokens")
    page.locator("#token-form").get_by_role("button", name="Make token").click()
    expect(page.locator('#token-form [aria-invalid="true"]')).to_have_count(1)
    assert_clean(page, axe_source, "token form with errors")
    page.screenshot(path=str(artifacts / f"spa-tokens-{width}.png"), full_page=True)


def test_the_header_stays_on_one_line_at_375_and_1280_pixels(sized_page: Any, stack: Stack) -> None:
    page = sized_page
    register(page, stack)
    header = page.locator(".topbar").bounding_box()
    brand = page.locator(".brand").bounding_box()
    logout = page.get_by_role("button", name="Log out", exact=True).bounding_box()

    assert abs(brand["y"] - logout["y"]) < 44  # side by side, not wrapped below
    assert header["height"] <= 64
    assert logout["x"] + logout["width"] <= page.viewport_size["width"]
    assert (
        page.evaluate("() => document.documentElement.scrollWidth") <= (page.viewport_size["width"])
    )


def test_field_errors_are_linked_and_focused(page: Any, stack: Stack) -> None:
    page.goto(stack.spa)
    form = page.locator("#login-form")

    form.get_by_role("button", name="Log in").click()

    username = form.get_by_label("Username or email")
    expect(username).to_be_focused()
    expect(username).to_have_attribute("aria-invalid", "true")
    expect(username).to_have_accessible_description("Enter your username or email.")
    expect(form.get_by_label("Password")).to_have_accessible_description("Enter your password.")
    expect(alert(page)).to_have_text("Please correct the highlighted fields.")
    assert page.locator("#alert").get_attribute("role") == "alert"


def test_messages_stay_until_dismissed_and_do_not_move_the_page(page: Any, stack: Stack) -> None:
    page.goto(stack.spa)
    form = page.locator("#login-form")
    before = form.bounding_box()

    form.get_by_role("button", name="Log in").click()
    expect(alert(page)).not_to_be_empty()
    assert form.bounding_box()["y"] == before["y"]

    page.locator("#alert").get_by_role("button", name="Dismiss").click()
    expect(alert(page)).to_be_empty()


def test_messages_do_not_vanish_on_a_timer(context: Any, page: Any, stack: Stack) -> None:
    context.clock.install()
    page.goto(stack.spa)
    page.locator("#login-form").get_by_role("button", name="Log in").click()
    expect(alert(page)).not_to_be_empty()

    context.clock.run_for("01:00")

    expect(alert(page)).to_have_text("Please correct the highlighted fields.")
    expect(page.locator("#alert")).to_be_visible()


def test_one_h1_focused_after_login_and_tabs_work_with_the_keyboard(
    page: Any, stack: Stack
) -> None:
    page.goto(stack.spa)
    expect(page.locator("body")).to_have_attribute("data-state", "out")
    login_tab = page.get_by_role("tab", name="Log in")
    login_tab.focus()

    page.keyboard.press("ArrowRight")

    register_tab = page.get_by_role("tab", name="Create account")
    expect(register_tab).to_be_focused()
    expect(register_tab).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel")).to_have_attribute("id", "register-panel")
    page.keyboard.press("Home")
    expect(login_tab).to_have_attribute("aria-selected", "true")

    register(page, stack)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your notes")
    expect(page.get_by_role("heading", level=1)).to_be_focused()


def test_loading_lasts_until_the_notes_are_there(page: Any, stack: Stack) -> None:
    register(page, stack)
    held: list[Any] = []
    page.route(stack.api + "/api/v1/notes?*", lambda route: held.append(route))

    page.reload()

    expect(page.get_by_role("status").filter(has_text="Loading your notes")).to_be_visible()
    expect(page.locator("#workspace")).to_be_hidden()
    page.wait_for_timeout(100)
    assert held
    held[0].continue_()
    expect(page.locator("#loading")).to_be_hidden()
    expect(page.locator("#workspace")).to_be_visible()


def test_a_script_that_fails_to_load_is_explained(page: Any, stack: Stack) -> None:
    page.route("**/api.js", lambda route: route.fulfill(status=404, body="not found"))

    page.goto(stack.spa)

    expect(page.locator("#loading")).to_contain_text("The app could not start")


def test_the_page_has_a_favicon(page: Any, stack: Stack) -> None:
    page.goto(stack.spa)
    href = page.locator('link[rel="icon"]').evaluate("(link) => link.href")

    icon = page.request.get(href)

    assert icon.status == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
