"""Real servers on loopback for the production tests: gunicorn hosts and a private Redis."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.loopback import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
START_TIMEOUT = 30.0


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any


def call(url: str, method: str = "GET", body: Any = None, headers: dict | None = None) -> Reply:
    """One HTTP request on a new connection, so gunicorn spreads them over its workers."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            status, raw, reply_headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, raw, reply_headers = error.code, error.read(), error.headers
    return Reply(status, dict(reply_headers), json.loads(raw) if raw else None)


def wait_until(check: Any, what: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not come up within {timeout:.0f} s")


@dataclass
class Host:
    """One gunicorn server with its own workers: a "host" behind the load balancer."""

    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    #: The WSGI application gunicorn serves.
    app: str = "wsgi:app"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Host:
        env = os.environ | self.env | {"GUNICORN_BIND": f"127.0.0.1:{self.port}"}
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", self.app],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
        wait_until(lambda: call(self.url + "/healthz").status == 200, f"gunicorn on {self.port}")
        return self

    def stop(self) -> None:
        """Graceful stop (SIGTERM), then a kill if it overstays."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@dataclass
class PrivateRedis:
    """A redis-server of the test's own, so the test may kill it without harming anyone."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        server = shutil.which("redis-server")
        if server is None:
            raise RuntimeError("redis-server is not installed")
        self.process = subprocess.Popen(
            [
                server,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, f"redis-server on {self.port}")
        return self

    def _answers(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None
