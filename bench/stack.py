"""The pieces `make bench` drives: gunicorn servers, wrk, a database and Redis of its own."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LUA = Path(__file__).resolve().parent / "load.lua"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_wrk() -> str:
    """wrk from Debian's packages, installed on first use (as root, or through sudo)."""
    found = shutil.which("wrk")
    if found:
        return found
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    print("bench: installing wrk from the distribution's packages", file=sys.stderr)
    subprocess.run([*prefix, "apt-get", "update", "-qq"], check=True)  # noqa: S603
    subprocess.run(  # noqa: S603 - fixed argument lists, no shell
        [*prefix, "apt-get", "install", "-y", "-qq", "wrk"],
        check=True,
        env=os.environ | {"DEBIAN_FRONTEND": "noninteractive"},
    )
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and could not be installed")
    return found


@dataclass
class Server:
    """gunicorn with the repository's gunicorn.conf.py on a free loopback port."""

    app: str
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        env = os.environ | self.env | {"GUNICORN_BIND": f"127.0.0.1:{self.port}"}
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", self.app],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as reply:  # noqa: S310
                    if reply.status == 200 and len(self.worker_pids()) >= 1:
                        return self
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.2)
        raise TimeoutError(f"gunicorn on {self.port} did not come up; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def worker_rss_mib(self) -> list[float]:
        sizes = []
        for pid in self.worker_pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        return sizes

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@dataclass
class Load:
    """One wrk run's outcome."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def start_wrk(
    url: str,
    path: str,
    *,
    seconds: float,
    connections: int,
    tokens: Path | None = None,
    bodies: Path | None = None,
    method: str = "GET",
    stop_after: int = 0,
) -> subprocess.Popen:
    env = os.environ | {
        "BENCH_PATH": path,
        "BENCH_METHOD": method,
        "BENCH_TOKENS": str(tokens or ""),
        "BENCH_BODIES": str(bodies or ""),
        "BENCH_STOP_AFTER": str(stop_after),
    }
    command = [
        ensure_wrk(),
        "-t1",
        f"-c{connections}",
        f"-d{int(seconds)}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
    ]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603


def finish_wrk(process: subprocess.Popen) -> Load:
    out, err = process.communicate()
    for line in out.decode().splitlines():
        if line.startswith("BENCH "):
            data = json.loads(line[len("BENCH ") :])
            return Load(
                requests=data["requests"],
                seconds=data["duration_us"] / 1e6,
                p50_ms=data["p50_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
                non_2xx=data["non_2xx"],
                socket_errors=data["socket_errors"],
            )
    raise RuntimeError(f"wrk gave no result: {out.decode()} {err.decode()}")


def run_wrk(url: str, path: str, **options: object) -> Load:
    return finish_wrk(start_wrk(url, path, **options))  # type: ignore[arg-type]


@contextmanager
def bench_database(admin_url: str | None, workdir: Path) -> Iterator[str]:
    """A PostgreSQL database of the bench's own (dropped afterwards), else a SQLite file."""
    if not admin_url:
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(admin_url)
    name = f"myapi_bench_{secrets.token_hex(6)}"
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def migrate(database_url: str) -> None:
    subprocess.run(  # noqa: S603 - fixed argument lists, no shell
        [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=os.environ | {"MYAPI_CONFIG": "development", "DATABASE_URL": database_url},
        check=True,
        capture_output=True,
    )


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def denied_key(i: int) -> str:
    """A denylist key as `myapi.security.revocation` lays them out, spread over 200 holders."""
    return f"myapi:revocation:{{u:{i % 200 + 1}}}:jti:bench-{i:030d}"


def fill_redis_denylist(url: str, count: int, *, remove: bool = False) -> None:
    """`count` denylisted jti keys (or, with `remove`, their removal), as raw RESP in batches."""
    parts = urlsplit(url)
    database = (parts.path or "/0").lstrip("/") or "0"
    batch = 50_000
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379)) as sock:
        if parts.password:
            sock.sendall(_resp("AUTH", parts.password))
            _read_replies(sock, 1)
        sock.sendall(_resp("SELECT", database))
        _read_replies(sock, 1)
        for start in range(0, count, batch):
            stop = min(start + batch, count)
            sock.sendall(
                b"".join(
                    _resp("UNLINK", denied_key(i))
                    if remove
                    else _resp("SET", denied_key(i), "1", "EX", "3600")
                    for i in range(start, stop)
                )
            )
            _read_replies(sock, stop - start)


def _resp(*words: str) -> bytes:
    out = [f"*{len(words)}\r\n".encode()]
    for word in words:
        data = word.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _read_replies(sock: socket.socket, count: int) -> None:
    """Every reply here is one line ("+OK", ":1"); an error reply stops the bench."""
    buffer = b""
    while buffer.count(b"\r\n") < count:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("Redis closed the connection")
        buffer += chunk
    if b"-" in buffer[:1] or b"\r\n-" in buffer:
        raise RuntimeError(f"Redis refused a command: {buffer[:200]!r}")


def fill_sql_denylist(database_url: str, count: int, *, remove: bool = False) -> None:
    """`count` rows in revoked_tokens: COPY on PostgreSQL, one executemany on SQLite."""
    expires = datetime.now(UTC) + timedelta(hours=1)
    if remove:
        from sqlalchemy import create_engine, text

        engine = create_engine(database_url)
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM revoked_tokens WHERE jti LIKE 'bench-%'"))
        engine.dispose()
        return
    if database_url.startswith("sqlite"):
        import sqlite3

        stamp = expires.strftime("%Y-%m-%d %H:%M:%S.%f")
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
            connection.executemany(
                "INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?)",
                ((f"bench-{i:030d}", stamp) for i in range(count)),
            )
        return
    import psycopg
    from sqlalchemy.engine import make_url

    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    stamp = expires.isoformat()
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        with cursor.copy("COPY revoked_tokens (jti, expires_at) FROM STDIN") as copy:
            for i in range(count):
                copy.write_row((f"bench-{i:030d}", stamp))
        cursor.execute("ANALYZE revoked_tokens")


def server_durations(log_path: Path, path: str, offset: int) -> list[float]:
    """The app's own `duration_ms` for requests to `path` logged after byte `offset`."""
    durations = []
    with log_path.open("rb") as log:
        log.seek(offset)
        for raw in log:
            if not raw.startswith(b"{"):
                continue
            entry = json.loads(raw)
            if entry.get("logger") == "myapi.request" and entry.get("path") == path:
                durations.append(float(entry["duration_ms"]))
    return durations
