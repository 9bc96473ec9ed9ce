"""End to end in Chromium: the SPA's account recovery screens against the API sending real
mail to an SMTP server on loopback (aiosmtpd, tests/mail/smtp_server.py).

Forgot password, the link read from the caught message, the reset page, the new password
working and the old one not; the "verify your email" banner, a new link, the verification
page, the banner gone; and a change of address that needs a fresh password login.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest

from tests.e2e.conftest import Stack, axe_violations, running_stack, sync_api
from tests.e2e.test_screens import go
from tests.e2e.test_spa import alert, log_in, register, status
from tests.helpers.http import PASSWORD
from tests.mail.smtp_server import LoopbackSMTP, link_in
from tests.production.servers import call, wait_until

expect = sync_api.expect
NEW_PASSWORD = "a brand new long passphrase 7"
VERIFY_SUBJECT = "Verify your email address"
RESET_SUBJECT = "Reset your password"


@pytest.fixture(scope="module")
def smtp() -> Iterator[LoopbackSMTP]:
    server = LoopbackSMTP()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mail_stack(tmp_path_factory: pytest.TempPathFactory, smtp: LoopbackSMTP) -> Iterator[Stack]:
    """The API with account emails on, sending through `smtp`, its links to the SPA."""
    with running_stack(
        tmp_path_factory.mktemp("e2e-mail"), ACCOUNT_EMAILS="true", MAIL_URL=smtp.url
    ) as running:
        yield running


def mail_to(smtp: LoopbackSMTP, address: str, subject: str, count: int = 1) -> EmailMessage:
    """The newest message to `address` with `subject`, once `count` of them have arrived."""
    wait_until(lambda: len(smtp.to(address, subject)) >= count, f"mail {subject!r}", 15)
    return smtp.to(address, subject)[-1]


def spa_origin(stack: Stack) -> str:
    return stack.spa.removesuffix("/index.html")


def test_forgot_password_then_reset_by_the_emailed_link(
    page: Any, mail_stack: Stack, smtp: LoopbackSMTP, axe_source: str
) -> None:
    username = "u" + secrets.token_hex(5)
    email = f"{username}@example.com"
    account = {"username": username, "email": email, "password": PASSWORD}
    assert call(mail_stack.api + "/auth/register", "POST", account).status == 201
    page.goto(mail_stack.spa)
    expect(page.locator("body")).to_have_attribute("data-state", "out")

    page.get_by_role("button", name="Forgot password?").click()
    forgot = page.locator("#forgot-form")
    expect(forgot.get_by_label("Email")).to_be_focused()
    forgot.get_by_label("Email").fill(f"nobody-{username}@example.com")
    page.get_by_role("button", name="Email me a link").click()
    expect(status(page)).to_contain_text("If an account has that address")
    neutral = status(page).text_content()
    assert axe_violations(page, axe_source) == []
    forgot.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a link").click()
    expect(status(page)).to_have_text(neutral)

    link = link_in(mail_to(smtp, email, RESET_SUBJECT))
    assert link.startswith(spa_origin(mail_stack) + "/reset-password#token=")
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    assert "token" not in page.url  # the token left the address bar and the history
    assert axe_violations(page, axe_source) == []
    form = page.locator("#reset-form")

    form.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    form.get_by_label("New password again").fill(NEW_PASSWORD + "x")
    form.get_by_role("button", name="Set the new password").click()
    expect(form.locator('.field-error[data-for="new_password_again"]')).to_contain_text(
        "The two passwords differ"
    )
    expect(form.get_by_label("New password again")).to_be_focused()

    form.get_by_label("New password", exact=True).fill("password1234")
    form.get_by_label("New password again").fill("password1234")
    form.get_by_role("button", name="Set the new password").click()
    expect(form.locator('.field-error[data-for="new_password"]')).to_have_text(
        "Is one of the most commonly used passwords; choose another."
    )
    expect(form.get_by_label("New password", exact=True)).to_be_focused()

    form.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    form.get_by_label("New password again").fill(NEW_PASSWORD)
    form.get_by_role("button", name="Set the new password").click()
    expect(status(page)).to_contain_text("Your new password is set")
    expect(page.locator("body")).to_have_attribute("data-state", "out")
    expect(page.get_by_label("Username or email")).to_be_focused()
    assert page.url == spa_origin(mail_stack) + "/"

    log_in(page, username, PASSWORD)
    expect(alert(page)).to_have_text("The username or password is incorrect.")
    log_in(page, username, NEW_PASSWORD)
    expect(page.locator("body")).to_have_attribute("data-state", "in")

    other = page.context.new_page()  # the same link, used once already
    other.goto(link)
    again = other.locator("#reset-form")
    again.get_by_label("New password", exact=True).fill("yet another long passphrase")
    again.get_by_label("New password again").fill("yet another long passphrase")
    again.get_by_role("button", name="Set the new password").click()
    expect(alert(other)).to_contain_text("This link does not work any more")
    expect(other.get_by_role("button", name="Ask for a new link")).to_be_focused()
    other.get_by_role("button", name="Ask for a new link").click()
    expect(other.locator("#forgot-form").get_by_label("Email")).to_be_focused()


def test_the_verify_banner_a_new_link_and_the_verification_page(
    page: Any, mail_stack: Stack, smtp: LoopbackSMTP, axe_source: str
) -> None:
    username, _ = register(page, mail_stack)
    email = f"{username}@example.com"
    banner = page.locator("#verify-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(f"Please verify your email address, {email}")
    first = link_in(mail_to(smtp, email, VERIFY_SUBJECT))
    assert axe_violations(page, axe_source) == []

    banner.get_by_role("button", name="Send a new link").click()
    expect(status(page)).to_have_text(
        f"A new link is on its way to {email}; earlier links no longer work."
    )
    second = link_in(mail_to(smtp, email, VERIFY_SUBJECT, count=2))
    assert second != first
    assert second.startswith(spa_origin(mail_stack) + "/verify-email#token=")

    landing = page.context.new_page()
    landing.goto(first)  # superseded by the second
    expect(landing.get_by_role("heading", level=1)).to_have_text("This link does not work")
    landing.goto(second)
    expect(landing.get_by_role("heading", level=1)).to_have_text("Email address verified")
    expect(landing.get_by_role("heading", level=1)).to_be_focused()
    assert "token" not in landing.url
    assert axe_violations(landing, axe_source) == []

    expect(banner).to_be_hidden()  # the open tab is told
    landing.get_by_role("link", name="Go to your notes").click()
    expect(landing.locator("body")).to_have_attribute("data-state", "in")
    expect(landing.locator("#verify-banner")).to_be_hidden()
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-state", "in")
    expect(banner).to_be_hidden()


def test_changing_the_email_address_confirms_the_password_and_the_new_link(
    page: Any, mail_stack: Stack, smtp: LoopbackSMTP, axe_source: str
) -> None:
    username, _ = register(page, mail_stack)
    page.reload()  # the token now comes from a refresh: not fresh
    expect(page.locator("body")).to_have_attribute("data-state", "in")
    go(page, "Email")
    form = page.locator("#email-form")
    expect(form).to_contain_text(f"Your address is {username}@example.com.")
    assert axe_violations(page, axe_source) == []
    new_email = f"new-{username}@example.com"

    form.get_by_label("New email address").fill(new_email)
    with page.expect_response(lambda r: r.url.endswith("/auth/token-info")):
        form.get_by_role("button", name="Change email address").click()
    expect(form.locator('.field-error[data-for="password"]')).to_contain_text("Enter your password")
    expect(form.get_by_label("Your password")).to_be_focused()
    form.get_by_label("Your password").fill("not my password at all")
    form.get_by_role("button", name="Change email address").click()
    expect(form.locator('.field-error[data-for="password"]')).to_have_text(
        "That password is not right."
    )
    form.get_by_label("Your password").fill(PASSWORD)
    form.get_by_role("button", name="Change email address").click()
    expect(status(page)).to_contain_text(f"A link is on its way to {new_email}.")

    page.goto(link_in(mail_to(smtp, new_email, VERIFY_SUBJECT)))
    expect(page.get_by_role("heading", level=1)).to_have_text("Email address verified")
    page.get_by_role("link", name="Go to your notes").click()
    expect(page.locator("body")).to_have_attribute("data-state", "in")
    go(page, "Email")
    expect(form).to_contain_text(f"Your address is {new_email}.")
    expect(page.locator("#verify-banner")).to_be_hidden()


def test_without_account_emails_the_banner_goes_once_the_api_says_so(
    page: Any, stack: Stack
) -> None:
    """The shared stack runs with ACCOUNT_EMAILS off (production's default): 404s."""
    register(page, stack)
    banner = page.locator("#verify-banner")
    expect(banner).to_be_visible()  # the API says "not verified", and nothing more

    banner.get_by_role("button", name="Send a new link").click()

    expect(alert(page)).to_have_text(
        "This server sends no account emails, so email addresses cannot be verified or "
        "changed here."
    )
    expect(banner).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    page.get_by_role("button", name="Log out", exact=True).click()
    page.get_by_role("button", name="Forgot password?").click()
    forgot = page.locator("#forgot-form")
    forgot.get_by_label("Email").fill("someone@example.com")
    forgot.get_by_role("button", name="Email me a link").click()
    expect(alert(page)).to_have_text(
        "This server does not send password reset emails: ask its administrator."
    )
