"""Loopback helpers: a free port, and an HTTP server that offers a JWKS and records requests.

Tests that put `jku`/`x5u` URLs in a token's header point them here, then assert that
the list of hits stayed empty: proof that the service never fetched a key (no SSRF).
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _RecordingHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        body = json.dumps(self.server.jwks).encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@contextmanager
def recording_jwks_server(jwks: dict[str, Any]) -> Iterator[http.server.HTTPServer]:
    """Serve `jwks` on 127.0.0.1 (a free port) until the block ends; `.hits` lists the paths."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _RecordingHandler)
    server.hits = []  # type: ignore[attr-defined]
    server.jwks = jwks  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
