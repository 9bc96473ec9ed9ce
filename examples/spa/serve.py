"""Serve the example SPA with the response headers a real deployment sends (`make spa`).

    python examples/spa/serve.py --api http://127.0.0.1:5000 [--host 127.0.0.1] [--port 5173]

`config.js` is answered from `--api`, so the page always talks to the API it was started
with, and the Content-Security-Policy lets the page connect to that origin and nowhere
else. `/reset-password` and `/verify-email`, the pages the API's emailed links open (with
`FRONTEND_URL` set to this server's address), are answered with `index.html`.
docs/browser.md shows the same headers for nginx. Standard library only.
"""

from __future__ import annotations

import argparse
import functools
import http.server
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
#: The paths of the emailed links (`FRONTEND_URL/reset-password#token=...`): the app's page.
LINK_PAGES = frozenset({"/reset-password", "/verify-email"})


def api_origin(url: str) -> str:
    """The origin (scheme, host, port) of the API's base URL."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"--api must be an http(s) URL, got {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def security_headers(api: str) -> dict[str, str]:
    """The headers every answer carries; `connect-src` is the API's origin only."""
    policy = "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src {api_origin(api)}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


class SpaServer(http.server.ThreadingHTTPServer):
    """The server; `api` and `overrides` (path to body) may change while it runs."""

    api: str
    overrides: dict[str, str]

    def answer_for(self, path: str) -> str | None:
        if path == "/config.js":
            return f'export const API_BASE = "{self.api}";\n'
        return self.overrides.get(path)


class SpaHandler(http.server.SimpleHTTPRequestHandler):
    """Files from the SPA's directory, `config.js` from `--api`, and the security headers."""

    server: SpaServer

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        override = self.server.answer_for(path)
        if override is None:
            if path in LINK_PAGES:
                self.path = "/index.html"
            super().do_GET()
            return
        body = override.encode()
        self.send_response(200)
        kind = "text/javascript" if self.path.split("?")[0].endswith(".js") else "text/html"
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self) -> None:
        for name, value in security_headers(self.server.api).items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, *_: Any) -> None:
        pass


def make_server(
    host: str,
    port: int,
    api: str,
    directory: Path = HERE,
    overrides: dict[str, str] | None = None,
) -> SpaServer:
    api_origin(api)  # refuse a bad --api before serving anything
    server = SpaServer((host, port), functools.partial(SpaHandler, directory=str(directory)))
    server.api = api.rstrip("/")
    server.overrides = overrides or {}
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", required=True, help="the API's base URL, as the page reaches it")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5173)
    args = parser.parse_args()
    server = make_server(args.host, args.port, args.api)
    print(f"SPA on http://{args.host}:{server.server_address[1]}/ (API {args.api})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
