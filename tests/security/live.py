"""The app as a client sees it: gunicorn on a loopback port, spoken to over real HTTP.

`tests.production.servers` starts the gunicorn hosts; this module adds a raw client
(any method, repeated headers, bodies of any type, no JSON assumptions) and the
two roles a test can play toward a server: a trusted proxy (which sets the client
address and `X-Forwarded-Proto: https`, as nginx would) or a client reaching
gunicorn directly.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import socket
import time
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from tests.production.servers import Host

_addresses = itertools.count(1)


def next_client_ip() -> str:
    """A documentation-range address (RFC 5737) not used before in this run."""
    n = next(_addresses)
    return f"198.51.{n // 250}.{n % 250 + 1}"


@dataclass
class Reply:
    status: int
    headers: Message
    raw: bytes
    seconds: float

    @property
    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", "replace")

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip()

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)


@dataclass
class Server:
    """A running host and the way this test suite talks to it."""

    host: Host
    behind_proxy: bool
    secret: str
    log_path: Any
    client_ip: str = field(default_factory=next_client_ip)

    @property
    def port(self) -> int:
        return self.host.port

    @property
    def url(self) -> str:
        return self.host.url

    def as_client(self, ip: str | None = None) -> Client:
        """A client with its own address (through the proxy); direct clients share 127.0.0.1."""
        return Client(self, ip or next_client_ip())


@dataclass
class Client:
    server: Server
    ip: str
    https: bool = True

    extra_headers: tuple[tuple[str, str], ...] = ()

    def with_headers(self, headers: dict[str, str]) -> Client:
        """The same client, sending these headers on every request too."""
        return Client(self.server, self.ip, self.https, tuple(headers.items()))

    def plain_http(self) -> Client:
        """The same client, but the proxy says the request came over plain HTTP."""
        return Client(self.server, self.ip, False, self.extra_headers)

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes | str | None = None,
        headers: dict[str, str] | list[tuple[str, str]] | None = None,
        token: str | None = None,
        timeout: float = 15,
    ) -> Reply:
        pairs = list(self.extra_headers)
        pairs += list(headers.items() if isinstance(headers, dict) else headers or [])
        if token is not None:
            pairs.append(("Authorization", f"Bearer {token}"))
        if json_body is not None:
            body = json.dumps(json_body)
            if not any(name.lower() == "content-type" for name, _ in pairs):
                pairs.append(("Content-Type", "application/json"))
        if isinstance(body, str):
            body = body.encode()
        if self.server.behind_proxy:
            # The trusted proxy overwrites these; whatever the client sent is gone.
            pairs = [(n, v) for n, v in pairs if n.lower() not in _PROXY_SET]
            pairs.append(("X-Forwarded-For", self.ip))
            pairs.append(("X-Forwarded-Proto", "https" if self.https else "http"))
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=timeout)
        started = time.perf_counter()
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            for name, value in pairs:
                connection.putheader(name, value)
            if body is not None:
                connection.putheader("Content-Length", str(len(body)))
            # The server may answer (e.g. 413) and close before reading the whole body.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                connection.endheaders(body)
            response = connection.getresponse()
            raw = response.read()
            return Reply(response.status, response.msg, raw, time.perf_counter() - started)
        finally:
            connection.close()

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Reply:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Reply:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Reply:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Reply:
        return self.request("DELETE", path, **kwargs)


_PROXY_SET = frozenset({"x-forwarded-for", "x-forwarded-proto"})


def raw_exchange(port: int, data: bytes, timeout: float = 5) -> bytes:
    """Send bytes on a new connection and read until the server closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
