"""End-to-end: the example SPA against the API in a real Chromium (Debian's, via Playwright).

Three loopback origins: the API (gunicorn, production config over plain HTTP, a file SQLite
database), the SPA (examples/spa served by examples/spa/serve.py, as `make spa` does: its
headers, and config.js pointing at that API), and an unlisted "evil" origin. All three are
on 127.0.0.1, so they are the same *site*: SameSite does not keep the refresh cookie away
from the evil page, and only CORS and the CSRF check protect it.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import secrets
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.production.servers import BIN, ROOT, Host

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SPA_DIR = ROOT / "examples" / "spa"
ARTIFACTS = ROOT / "test-artifacts"
#: Every Playwright wait is bounded by this (milliseconds).
WAIT_MS = 15_000
#: axe-core, which `make test` installs from the npm registry (tests/e2e/package-lock.json).
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"


def _load_spa_server() -> Any:
    spec = importlib.util.spec_from_file_location("spa_serve", SPA_DIR / "serve.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


spa_serve = _load_spa_server()

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev extra)")
sync_api.expect.set_options(timeout=WAIT_MS)


class StaticServer:
    """A directory over HTTP on a free loopback port, in a thread, with overridden files."""

    def __init__(self, directory: Path, overrides: dict[str, str] | None = None) -> None:
        handler = functools.partial(_Handler, directory=str(directory))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.overrides = overrides or {}  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> StaticServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        override = self.server.overrides.get(self.path.split("?")[0])  # type: ignore[attr-defined]
        if override is None:
            super().do_GET()
            return
        body = override.encode()
        self.send_response(200)
        kind = "text/javascript" if self.path.endswith(".js") else "text/html"
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, *_: Any) -> None:
        pass


class ServerClock:
    """The API's clock, which a test sets (`tests/e2e/shifted_clock.py` reads it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.shift(0)

    def shift(self, seconds: float) -> None:
        """From now on the API's time is the real time plus `seconds`."""
        written = self.path.with_suffix(".new")
        written.write_text(str(seconds))
        written.replace(self.path)  # the server never reads a half-written file


@dataclass
class Stack:
    api: str
    spa: str
    evil: str
    api_log: Path
    clock: ServerClock | None = None


@contextmanager
def running_stack(
    tmp: Path, *, clock: ServerClock | None = None, **settings: str
) -> Iterator[Stack]:
    """The API (with `settings` on top of the defaults), the SPA and the evil origin; with
    `clock`, the API keeps the time that clock says."""
    # The API's address is known once it runs; until then config.js names no API.
    spa = spa_serve.make_server("127.0.0.1", 0, "http://127.0.0.1:1")
    spa_origin = f"http://127.0.0.1:{spa.server_address[1]}"
    threading.Thread(target=spa.serve_forever, daemon=True).start()
    evil = StaticServer(tmp, {"/": "<!doctype html><title>Not the SPA</title><p>Hello."}).start()
    database = f"sqlite:///{tmp / 'e2e.db'}"
    subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=os.environ | {"MYAPI_CONFIG": "development", "DATABASE_URL": database},
        check=True,
        capture_output=True,
        timeout=60,
    )
    env = {
        "MYAPI_CONFIG": "production",
        "JWT_SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": database,
        "REDIS_URL": "",
        "RATELIMIT_STORAGE_URI": "memory://",
        "HTTPS_ONLY": "false",
        "PUBLIC_URL": "http://127.0.0.1",
        "CORS_ORIGINS": spa_origin,
        "FRONTEND_URL": spa_origin,
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "4",
        "REGISTER_LIMIT_PER_IP": "1000 per minute",
        "LOGIN_LIMIT_PER_IP": "1000 per minute",
        "RATELIMIT_DEFAULT": "10000 per minute",
    } | settings
    if clock is None:
        api = Host(env=env, log_path=tmp / "gunicorn.log").start()
    else:
        env["E2E_CLOCK_FILE"] = str(clock.path)
        api = Host(env=env, log_path=tmp / "gunicorn.log", app="tests.e2e.shifted_clock:app")
        api.start()
    spa.api = api.url
    try:
        yield Stack(
            api=api.url,
            spa=spa_origin + "/index.html",
            evil=evil.origin + "/",
            api_log=tmp / "gunicorn.log",
            clock=clock,
        )
    finally:
        api.stop()
        spa.shutdown()
        spa.server_close()
        evil.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The API, the SPA and the evil origin, for the whole session."""
    with running_stack(tmp_path_factory.mktemp("e2e")) as running:
        yield running


@pytest.fixture(scope="module")
def short_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Another stack whose access tokens expire after one minute (no leeway), on a clock the
    test sets: it issues tokens in the past instead of waiting for them to expire."""
    tmp = tmp_path_factory.mktemp("e2e-short")
    with running_stack(
        tmp,
        clock=ServerClock(tmp / "clock-offset"),
        ACCESS_TOKEN_MINUTES="1",
        JWT_LEEWAY_SECONDS="0",
    ) as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=WAIT_MS
        )
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser profile per test: no cookies or storage from another test."""
    context = browser.new_context(viewport={"width": 1200, "height": 860})
    context.set_default_timeout(WAIT_MS)
    context.set_default_navigation_timeout(WAIT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        pytest.skip(f"{AXE} is missing: make test installs it (npm ci in tests/e2e)")
    return AXE.read_text()


#: Impacts that fail a test; "minor" and "moderate" findings are reported by axe but allowed.
FAILING_IMPACTS = {"serious", "critical"}


def axe_violations(page: Any, source: str) -> list[str]:
    """Run axe-core on the page as it is now; the serious and critical violations, described.

    axe is evaluated through the DevTools protocol, so the page's Content-Security-Policy
    (script-src 'self') stays as strict as it is for users.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(source)
    results = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)"
    )
    return [
        f"{v['impact']} {v['id']}: {v['help']} at "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"])
        for v in results
        if v["impact"] in FAILING_IMPACTS
    ]
