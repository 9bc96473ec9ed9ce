"""Mistakes the page explains: a network failure told apart from a refused origin, SPA and API
on different sites, a taken username or email, empty fields, the name as stored."""

from __future__ import annotations

import secrets
from typing import Any

from tests.e2e.conftest import Stack, sync_api
from tests.e2e.test_spa import alert, log_in, status
from tests.helpers.http import PASSWORD

expect = sync_api.expect


def fill_register(page: Any, username: str, email: str, password: str = PASSWORD) -> None:
    page.get_by_role("tab", name="Create account").click()
    form = page.locator("#register-form")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Create account").click()


def test_an_unreachable_api_is_named(page: Any, stack: Stack) -> None:
    page.route(stack.api + "/**", lambda route: route.abort("connectionrefused"))
    page.goto(stack.spa)

    log_in(page, "someone")

    expect(alert(page)).to_have_text(
        f"Cannot reach the API at {stack.api}. It may be stopped or at another address "
        "(examples/spa/config.js names it)."
    )


def test_a_refused_origin_names_the_page_the_api_and_cors_origins(page: Any, stack: Stack) -> None:
    # localhost instead of 127.0.0.1: another origin (not in CORS_ORIGINS) and another site.
    port = stack.spa.split(":")[2].split("/")[0]
    page_origin = f"http://localhost:{port}"
    page.goto(f"{page_origin}/index.html")
    expect(page.locator("body")).to_have_attribute("data-state", "out")

    warning = page.locator("#config-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text(f"This page ({page_origin}) and the API ({stack.api})")
    expect(warning).to_contain_text("SameSite=Strict")

    log_in(page, "someone")

    message = alert(page)
    expect(message).to_contain_text(f"The API at {stack.api} refused this page's origin")
    expect(message).to_contain_text(f"Add {page_origin} to the API's CORS_ORIGINS setting")


def test_no_warning_when_page_and_api_share_a_site(page: Any, stack: Stack) -> None:
    page.goto(stack.spa)
    expect(page.locator("body")).to_have_attribute("data-state", "out")

    expect(page.locator("#config-warning")).to_be_hidden()


def test_the_field_that_is_taken_is_named(page: Any, stack: Stack) -> None:
    username = f"taken_{secrets.token_hex(3)}"
    page.goto(stack.spa)
    fill_register(page, username, f"{username}@example.com")
    expect(page.locator("body")).to_have_attribute("data-state", "in")
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page.locator("body")).to_have_attribute("data-state", "out")

    fill_register(page, username, f"other_{username}@example.com")

    form = page.locator("#register-form")
    expect(alert(page)).to_have_text("That username is already taken.")
    expect(form.get_by_label("Username")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("Username")).to_be_focused()
    expect(form.get_by_label("Username")).to_have_accessible_description(
        "3 to 32 letters, digits, dots, dashes or underscores This username is taken."
    )
    expect(form.get_by_label("Email")).not_to_have_attribute("aria-invalid", "true")

    fill_register(page, f"other_{username}", f"{username}@example.com")
    expect(alert(page)).to_have_text("That email is already taken.")


def test_empty_fields_are_named_in_plain_words(page: Any, stack: Stack) -> None:
    page.goto(stack.spa)
    page.get_by_role("tab", name="Create account").click()
    form = page.locator("#register-form")
    form.get_by_label("Username").fill("someone")

    form.get_by_role("button", name="Create account").click()

    expect(form.locator('.field-error[data-for="email"]')).to_have_text("Enter your email address.")
    expect(form.locator('.field-error[data-for="password"]')).to_have_text(
        "Choose a password of at least 12 characters."
    )
    expect(form.locator('.field-error[data-for="username"]')).to_be_empty()
    expect(form.get_by_label("Email")).to_be_focused()


def test_the_name_is_shown_as_the_server_stores_it(page: Any, stack: Stack) -> None:
    typed = f"Mixed_Case_{secrets.token_hex(3).upper()}"
    page.goto(stack.spa)

    fill_register(page, typed, f"{typed}@Example.com")

    expect(page.locator("#who")).to_have_text(typed.lower())
    expect(status(page)).to_have_text(f"Welcome, {typed.lower()}! Your account is ready.")
