"""The SPA's response headers as `make spa` (examples/spa/serve.py) sends them, what they do
in Chromium, and Chromium's handling of a `Secure` cookie over plain HTTP on loopback."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import SPA_DIR, Stack
from tests.e2e.test_spa import register


def directives(policy: str) -> dict[str, str]:
    return {
        part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2]
        for part in policy.split(";")
        if part.strip()
    }


def test_every_file_is_served_with_the_security_headers(stack: Stack) -> None:
    base = stack.spa.rsplit("/", 1)[0]
    for path in ("/index.html", "/app.js", "/config.js", "/favicon.svg", "/nowhere"):
        try:
            response = urllib.request.urlopen(base + path, timeout=10)
        except urllib.error.HTTPError as error:  # the 404 carries them too
            response = error
        headers = response.headers
        policy = directives(headers["Content-Security-Policy"])
        assert policy["connect-src"] == stack.api, path  # the API's origin and nothing else
        assert policy["frame-ancestors"] == "'none'"
        assert policy["script-src"] == "'self'"
        assert policy["default-src"] == "'none'"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"


def test_config_js_names_the_api_the_server_was_started_with(stack: Stack) -> None:
    base = stack.spa.rsplit("/", 1)[0]
    body = urllib.request.urlopen(base + "/config.js", timeout=10).read().decode()

    assert body == f'export const API_BASE = "{stack.api}";\n'


def test_the_page_may_connect_to_the_api_only(page: Any, stack: Stack) -> None:
    register(page, stack)
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))

    outcome = page.evaluate(
        """async (elsewhere) => {
          try { await fetch(elsewhere); return "sent"; } catch (error) { return "blocked"; }
        }""",
        stack.evil,
    )

    assert outcome == "blocked"
    page.wait_for_timeout(200)
    assert any("Content Security Policy" in line and "connect-src" in line for line in violations)


def test_other_sites_cannot_frame_the_page(page: Any, stack: Stack) -> None:
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text))
    page.goto(stack.evil)
    page.set_content(f'<iframe src="{stack.spa}"></iframe>')
    page.wait_for_timeout(500)

    assert any("frame-ancestors" in line for line in blocked), blocked


def test_make_spa_serves_with_these_headers_from_the_command_line() -> None:
    server = subprocess.Popen(
        [
            sys.executable,
            str(SPA_DIR / "serve.py"),
            "--api",
            "http://127.0.0.1:5999/",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()  # "SPA on http://127.0.0.1:PORT/ (API ...)"
        url = line.split()[2]
        response = urllib.request.urlopen(url + "config.js", timeout=10)
        assert response.read().decode() == 'export const API_BASE = "http://127.0.0.1:5999";\n'
        policy = directives(response.headers["Content-Security-Policy"])
        assert policy["connect-src"] == "http://127.0.0.1:5999"
    finally:
        server.terminate()
        server.wait(timeout=10)


class _SecureCookie(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Set-Cookie", "__Secure-probe=1; Secure; HttpOnly; Path=/; Max-Age=60")
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<!doctype html><title>probe</title>")

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def plain_http_loopback() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SecureCookie)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_chromium_keeps_a_secure_cookie_set_over_plain_http_on_loopback(
    context: Any, page: Any, plain_http_loopback: str
) -> None:
    # What docs/browser.md says: Chromium counts loopback as secure. (The API still uses the
    # unprefixed cookie there, because that is each browser's own choice.)
    page.goto(plain_http_loopback)

    (cookie,) = context.cookies(plain_http_loopback)
    assert cookie["name"] == "__Secure-probe"
    assert cookie["secure"] is True
