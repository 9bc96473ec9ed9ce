"""The example SPA in Chromium: notes, a session that survives a reload, and what another
origin cannot do with the user's refresh cookie."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest

from tests.e2e.conftest import Stack, sync_api
from tests.helpers.http import PASSWORD

expect = sync_api.expect
COOKIE = "myapi_refresh"  # plain-HTTP loopback: no Secure, so no __Secure- prefix


def is_post(path: str) -> Any:
    return lambda response: response.request.method == "POST" and response.url.endswith(path)


def register(page: Any, stack: Stack) -> tuple[str, str]:
    """Create an account through the page; it logs in. Returns the username and access token."""
    username = f"user_{secrets.token_hex(4)}"
    page.goto(stack.spa)
    page.get_by_role("tab", name="Create account").click()
    form = page.locator("#register-form")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Email").fill(f"{username}@example.com")
    form.get_by_label("Password").fill(PASSWORD)
    with page.expect_response(is_post("/auth/login")) as login:
        form.get_by_role("button", name="Create account").click()
    expect(page.locator("body")).to_have_attribute("data-state", "in")
    expect(page.locator("#who")).to_have_text(username)
    return username, login.value.json()["access_token"]


def log_in(page: Any, username: str, password: str = PASSWORD) -> None:
    """Log in through the page's form (the page is on the login screen)."""
    form = page.locator("#login-form")
    form.get_by_label("Username or email").fill(username)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Log in").click()


def add_note(page: Any, title: str, body: str) -> None:
    form = page.locator("#note-form")
    form.get_by_placeholder("Title").fill(title)
    form.get_by_placeholder("Write something…").fill(body)
    form.get_by_role("button", name="Add note").click()
    expect(page.locator(".note-title", has_text=title)).to_be_visible()


def note(page: Any, title: str) -> Any:
    return page.locator("li.note").filter(has=page.locator(".note-title", has_text=title))


def script_visible_storage(page: Any) -> str:
    """Everything a script on the page can read from persistent storage and cookies."""
    return page.evaluate(
        "() => JSON.stringify({local: {...localStorage}, session: {...sessionStorage},"
        " cookie: document.cookie})"
    )


def refresh_cookies(context: Any, stack: Stack) -> list[dict[str, Any]]:
    return [c for c in context.cookies(stack.api + "/auth/refresh") if c["name"] == COOKIE]


def confirm(page: Any, button: str) -> None:
    """Answer the page's confirmation dialog with its button named `button`."""
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=button, exact=True).click()
    expect(dialog).to_be_hidden()


def alert(page: Any) -> Any:
    return page.locator("#alert .message-text")


def status(page: Any) -> Any:
    return page.locator("#status .message-text")


def test_register_log_in_and_manage_notes(page: Any, stack: Stack, artifacts: Any) -> None:
    register(page, stack)
    expect(page.locator("#notes-empty")).to_be_visible()

    add_note(page, "Groceries", "Milk, eggs, bread")
    add_note(page, "Ideas", "A browser app for the notes API")
    add_note(page, "Call the plumber", "Tuesday morning, about the kitchen sink")
    expect(page.locator("li.note")).to_have_count(3)
    expect(page.locator("#note-count")).to_have_text("3 notes")

    groceries = note(page, "Groceries")
    groceries.get_by_role("button", name="Edit").click()
    groceries.locator("form.edit input[name=title]").fill("Groceries for Sunday")
    groceries.get_by_role("button", name="Save").click()
    expect(note(page, "Groceries for Sunday")).to_be_visible()

    note(page, "Call the plumber").get_by_role("button", name="Delete").click()
    confirm(page, "Delete note")
    expect(page.locator("li.note")).to_have_count(2)
    expect(page.locator("#note-count")).to_have_text("2 notes")

    page.reload()  # what the list shows is what the API stored
    expect(page.locator("body")).to_have_attribute("data-state", "in")
    expect(page.locator(".note-title")).to_have_text(["Ideas", "Groceries for Sunday"])
    page.get_by_role("link", name="Sessions").click()
    expect(page.locator(".session-list li")).to_have_count(1)
    expect(page.locator(".session-list .badge")).to_have_text("This device")
    page.screenshot(path=str(artifacts / "spa-notes.png"), full_page=True)


def test_a_reload_keeps_the_session_through_the_cookie_alone(
    context: Any, page: Any, stack: Stack
) -> None:
    username, access_token = register(page, stack)
    cookies = refresh_cookies(context, stack)
    assert len(cookies) == 1
    cookie = cookies[0]
    assert cookie["httpOnly"] is True
    assert cookie["path"] == "/auth/refresh"
    assert cookie["sameSite"] == "Strict"
    assert access_token not in script_visible_storage(page)
    assert cookie["value"] not in script_visible_storage(page)

    with page.expect_response(is_post("/auth/refresh")) as silent_refresh:
        page.reload()
    expect(page.locator("body")).to_have_attribute("data-state", "in")
    expect(page.locator("#who")).to_have_text(username)

    assert silent_refresh.value.status == 200
    new_access_token = silent_refresh.value.json()["access_token"]
    assert "refresh_token" not in silent_refresh.value.json()
    visible = script_visible_storage(page)
    assert access_token not in visible
    assert new_access_token not in visible
    assert refresh_cookies(context, stack)[0]["value"] not in visible
    assert "eyJ" not in visible  # no JWT at all


def test_logging_out_ends_the_session_and_removes_the_cookie(
    context: Any, page: Any, stack: Stack
) -> None:
    register(page, stack)

    with page.expect_response(is_post("/auth/logout")) as logout:
        page.get_by_role("button", name="Log out", exact=True).click()
    expect(page.locator("body")).to_have_attribute("data-state", "out")
    assert logout.value.status == 204
    # Sent with what the browser keeps (cookie and CSRF value), not the access token, so a
    # token that expired while the laptop slept cannot stop it.
    sent = logout.value.request.all_headers()
    assert "authorization" not in sent
    assert sent["x-csrf-token"]
    assert refresh_cookies(context, stack) == []

    page.reload()
    expect(page.locator("#auth")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-state", "out")
    assert refresh_cookies(context, stack) == []
    assert "myapi" not in script_visible_storage(page)


def test_a_logout_that_cannot_be_confirmed_says_so_and_can_be_retried(
    page: Any, stack: Stack
) -> None:
    register(page, stack)
    fail_first_post(
        page, stack.api + "/auth/logout", problem_reply(stack, 503, **{"Retry-After": "5"})
    )

    page.get_by_role("button", name="Log out", exact=True).click()

    expect(alert(page)).to_contain_text("The logout could not be confirmed")
    expect(page.locator("body")).to_have_attribute("data-state", "in")
    with page.expect_response(is_post("/auth/logout")) as retried:
        page.get_by_role("button", name="Log out", exact=True).click()
    assert retried.value.status == 204
    expect(page.locator("body")).to_have_attribute("data-state", "out")


def csrf_rejections(stack: Stack) -> int:
    """Refreshes the API refused for a missing or wrong CSRF value, from its audit log."""
    lines = stack.api_log.read_text().splitlines()
    events = [json.loads(line) for line in lines if line.startswith("{")]
    return sum(e.get("event") == "token_rejected" and e.get("reason") == "csrf" for e in events)


EVIL_SCRIPT = """
async (api) => {
  const attempt = async (path, init) => {
    try {
      const response = await fetch(api + path, init);
      return "read " + response.status + " " + (await response.text());
    } catch (error) {
      return "blocked: " + error.message;
    }
  };
  return {
    me: await attempt("/auth/me", {credentials: "include"}),
    refresh: await attempt("/auth/refresh", {method: "POST", credentials: "include"}),
    refreshWithGuess: await attempt("/auth/refresh", {
      method: "POST",
      credentials: "include",
      headers: {"X-CSRF-Token": "guess", "X-Token-Delivery": "cookie"},
    }),
  };
}
"""


def test_an_unlisted_origin_cannot_use_the_refresh_cookie(
    context: Any, page: Any, stack: Stack
) -> None:
    username, _ = register(page, stack)
    evil = context.new_page()
    console: list[str] = []
    evil.on("console", lambda message: console.append(message.text))
    evil.goto(stack.evil)
    rejected_before = csrf_rejections(stack)

    results = evil.evaluate(EVIL_SCRIPT, stack.api)

    assert all(outcome.startswith("blocked: ") for outcome in results.values()), results
    evil.wait_for_timeout(200)  # console messages arrive asynchronously
    assert any("CORS policy" in line for line in console), console
    # The simple POST did reach the API with the cookie (same site), and the CSRF check
    # refused it; the one with custom headers never got past its preflight.
    assert csrf_rejections(stack) == rejected_before + 1
    # The user's session is untouched: a reload still logs in silently.
    page.reload()
    expect(page.locator("#who")).to_have_text(username)


def test_a_refresh_without_the_csrf_header_is_refused(page: Any, stack: Stack) -> None:
    username, _ = register(page, stack)

    outcome = page.evaluate(
        """async (api) => {
          const call = async (headers) => {
            const response = await fetch(api + "/auth/refresh", {
              method: "POST", credentials: "include", headers,
            });
            return {status: response.status, body: await response.json()};
          };
          const csrf = localStorage.getItem("myapi.csrf");
          return {
            missing: await call({"X-Token-Delivery": "cookie"}),
            wrong: await call({"X-Token-Delivery": "cookie", "X-CSRF-Token": "0".repeat(64)}),
            right: await call({"X-Token-Delivery": "cookie", "X-CSRF-Token": csrf}),
          };
        }""",
        stack.api,
    )

    for refused in (outcome["missing"], outcome["wrong"]):
        assert refused["status"] == 401
        assert refused["body"]["type"] == "urn:myapi:problem:invalid-token"
    assert outcome["right"]["status"] == 200
    page.reload()
    expect(page.locator("#who")).to_have_text(username)


def test_errors_are_explained_on_the_page(page: Any, stack: Stack) -> None:
    page.goto(stack.spa)
    login = page.locator("#login-form")
    login.get_by_label("Username or email").fill("nobody")
    login.get_by_label("Password").fill("not the password at all")
    login.get_by_role("button", name="Log in").click()
    expect(alert(page)).to_have_text("The username or password is incorrect.")

    page.get_by_role("tab", name="Create account").click()
    form = page.locator("#register-form")
    form.get_by_label("Username").fill("x")
    form.get_by_label("Email").fill("not-an-email")
    form.get_by_label("Password").fill("short")
    form.get_by_role("button", name="Create account").click()
    expect(form.locator('.field-error[data-for="password"]')).to_contain_text("12")
    expect(form.locator('.field-error[data-for="username"]')).not_to_be_empty()
    expect(alert(page)).to_have_text("Please correct the highlighted fields.")


def problem_reply(stack: Stack, status: int, **headers: str) -> dict[str, Any]:
    """A problem+json answer from the API, as a route fulfilment the SPA's origin may read."""
    spa_origin = stack.spa.rsplit("/", 1)[0]
    return {
        "status": status,
        "headers": {
            "Access-Control-Allow-Origin": spa_origin,
            "Access-Control-Expose-Headers": "Retry-After",
            "Content-Type": "application/problem+json",
        }
        | headers,
        "body": json.dumps({"type": "about:blank", "title": "x", "status": status, "detail": "x"}),
    }


def fail_first_post(page: Any, url: str, reply: dict[str, Any]) -> list[str]:
    """Answer the first POST to `url` with `reply`; let everything else through."""
    seen: list[str] = []

    def handle(route: Any) -> None:
        if route.request.method == "POST" and not seen:
            seen.append(route.request.url)
            route.fulfill(**reply)
        else:
            route.continue_()

    page.route(url, handle)
    return seen


def test_a_401_is_retried_once_after_a_silent_refresh(page: Any, stack: Stack) -> None:
    register(page, stack)
    expired = problem_reply(
        stack, 401, **{"WWW-Authenticate": 'Bearer realm="myapi", error="invalid_token"'}
    )
    failed = fail_first_post(page, stack.api + "/api/v1/notes", expired)
    refreshes: list[int] = []
    page.on(
        "response",
        lambda r: refreshes.append(r.status) if is_post("/auth/refresh")(r) else None,
    )

    add_note(page, "Written after the token expired", "The SPA refreshed and tried again.")

    assert failed, "the first attempt was not intercepted"
    assert refreshes == [200]
    expect(alert(page)).to_be_empty()
    expect(page.locator("li.note")).to_have_count(1)


@pytest.mark.parametrize(
    ("status", "headers", "message"),
    [
        (403, {}, "You are not allowed to do that with this account."),
        (429, {"Retry-After": "30"}, "Too many requests. Try again in 30 seconds."),
        (429, {"Retry-After": "3540"}, "Too many requests. Try again in 59 minutes."),
    ],
)
def test_refusals_are_explained_on_the_page(
    page: Any, stack: Stack, status: int, headers: dict[str, str], message: str
) -> None:
    register(page, stack)
    fail_first_post(page, stack.api + "/api/v1/notes", problem_reply(stack, status, **headers))

    form = page.locator("#note-form")
    form.get_by_placeholder("Title").fill("Refused")
    form.get_by_role("button", name="Add note").click()

    expect(alert(page)).to_have_text(message)
    expect(page.locator("li.note")).to_have_count(0)
