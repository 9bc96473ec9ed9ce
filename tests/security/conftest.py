"""Live servers for the security suite: the app under gunicorn, as a client meets it.

With TEST_DATABASE_URL and TEST_REDIS_URL set, every server runs on a PostgreSQL
database of this suite's own (created and dropped here) and on Redis database 14
(flushed before and after; nothing else is touched), with 2 workers. Without them,
on a file SQLite database with one worker (the in-memory limiter counts per process).

Three servers share that database, each for a reason (docs/security.md, "Test servers"):
* `live`: production config behind one trusted proxy hop. The test client is that
  proxy: it sets `X-Forwarded-For` (a fresh address per test, so rate limits of one
  test never leak into another) and `X-Forwarded-Proto: https`, so HSTS and the
  HTTPS-only rule are exercised.
* `direct`: TRUSTED_PROXIES=0 and plain HTTP allowed: a client that reaches gunicorn
  itself, for the rows about spoofed forwarding headers (E2, E4, H5).
* `fuzz`: as `live`, with rate limits off, for schemathesis and hypothesis, whose
  hundreds of requests come from one address (rate limits are verified by E2-E5).

The suite runs when its directory is named (`make security`, `pytest tests/security`);
a bare `pytest` (`make test`) skips it, so CI does not run it twice.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from sqlalchemy.engine import make_url

from myapi.security.scopes import CLIENT_SCOPES
from tests.mail.smtp_server import LoopbackSMTP
from tests.production.servers import BIN, ROOT, Host
from tests.security.live import Client, Server
from tests.security.suite import (
    ADMIN_PASSWORD,
    CORS_ORIGIN,
    FRONTEND_URL,
    ON_REAL_SERVERS,
    TEST_DATABASE_URL,
    TEST_REDIS_URL,
    WORKERS,
    Account,
    login,
)

#: The suite's own Redis database, so `make test` and `make security` can run side by side;
#: TEST_SECURITY_REDIS_DB picks another when several checkouts share one Redis.
SUITE_REDIS_DB = int(os.environ.get("TEST_SECURITY_REDIS_DB", "14"))


SUITE_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.args_source != pytest.Config.ArgsSource.TESTPATHS:
        return
    skip = pytest.mark.skip(reason="the security suite runs with `make security`")
    for item in items:
        if SUITE_DIR in Path(item.path).parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def suite_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("security")


@pytest.fixture(scope="session")
def database_url(suite_dir: Path) -> Iterator[str]:
    """The suite's own database, migrated to head, removed at the end."""
    if not ON_REAL_SERVERS:
        url = f"sqlite:///{suite_dir / 'security.db'}"
        _migrate(url)
        yield url
        return
    server = make_url(TEST_DATABASE_URL)
    name = f"myapi_security_{secrets.token_hex(6)}"
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(url)
        yield url
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _migrate(url: str) -> None:
    subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=os.environ | {"MYAPI_CONFIG": "development", "DATABASE_URL": url},
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """Redis database SUITE_REDIS_DB (14 unless TEST_SECURITY_REDIS_DB says otherwise; never
    the tests' own), flushed before and after; '' without Redis."""
    if not ON_REAL_SERVERS:
        yield ""
        return
    url = make_url_redis(TEST_REDIS_URL, SUITE_REDIS_DB)
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


def make_url_redis(url: str, db: int) -> str:
    base, _, _ = url.rstrip("/").rpartition("/")
    return f"{base}/{db}"


@pytest.fixture(scope="session")
def jwt_secret() -> str:
    """The key the suite configures; group C signs with it to imitate an issuer mistake."""
    return secrets.token_hex(32)


@pytest.fixture(scope="session")
def mailbox() -> Iterator[LoopbackSMTP]:
    """The SMTP server every suite server sends its mail to (rows E8, E9), on loopback."""
    server = LoopbackSMTP()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def server_env(
    database_url: str, redis_url: str, jwt_secret: str, mailbox: LoopbackSMTP
) -> dict[str, str]:
    """Production settings, every one given explicitly so a developer's .env cannot leak in."""
    return {
        "MYAPI_CONFIG": "production",
        "FLASK_DEBUG": "false",
        "JWT_SECRET_KEY": jwt_secret,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_ENABLED": "true",
        "PASSWORD_HASH_METHOD": "scrypt:32768:8:3",
        "TRUSTED_PROXIES": "1",
        "HTTPS_ONLY": "true",
        "PUBLIC_URL": "https://api.myapi.test",
        "CORS_ORIGINS": CORS_ORIGIN,
        "METRICS_ENABLED": "false",
        "LOG_LEVEL": "INFO",
        # D3 waits out the grace window; one second keeps that wait short.
        "REFRESH_GRACE_SECONDS": "1",
        "GUNICORN_WORKERS": str(WORKERS),
        "GUNICORN_THREADS": "2",
        # Password reset by email, sent by each worker right after its commit (E8, E9).
        "ACCOUNT_EMAILS": "true",
        "MAIL_URL": mailbox.url,
        "MAIL_DELIVERY": "after-commit",
        "FRONTEND_URL": FRONTEND_URL,
    }


@pytest.fixture(scope="session")
def start_server(suite_dir: Path, jwt_secret: str) -> Iterator[Callable[..., Server]]:
    """Start gunicorn hosts on loopback; every one is stopped when the session ends."""
    hosts: list[Host] = []

    def start(env: dict[str, str], *, name: str, behind_proxy: bool) -> Server:
        log_path = suite_dir / f"{name}.log"
        host = Host(env=env, log_path=log_path)
        hosts.append(host)
        # /healthz answers plain HTTP too, so Host.start's readiness probe works for every role.
        host.start()
        return Server(host, behind_proxy=behind_proxy, secret=jwt_secret, log_path=log_path)

    yield start
    for host in hosts:
        host.stop()


@pytest.fixture(scope="session")
def live(start_server: Callable[..., Server], server_env: dict[str, str]) -> Server:
    return start_server(server_env, name="live", behind_proxy=True)


@pytest.fixture(scope="session")
def direct(start_server: Callable[..., Server], server_env: dict[str, str]) -> Server:
    env = server_env | {"TRUSTED_PROXIES": "0", "HTTPS_ONLY": "false"}
    return start_server(env, name="direct", behind_proxy=False)


@pytest.fixture(scope="session")
def fuzz(start_server: Callable[..., Server], server_env: dict[str, str]) -> Server:
    return start_server(server_env | {"RATELIMIT_ENABLED": "false"}, name="fuzz", behind_proxy=True)


@pytest.fixture
def client(live: Server) -> Client:
    """A client of the live server with an address of this test's own."""
    return live.as_client()


@pytest.fixture(scope="session")
def make_account(live: Server) -> Callable[..., Account]:
    """Register an account over HTTP (each from its own address, so no limit is hit)."""

    def make(prefix: str = "user") -> Account:
        username = f"{prefix[:16]}-{secrets.token_hex(4)}"
        password = f"security suite {secrets.token_hex(6)}"
        email = f"{username}@example.com"
        reply = live.as_client().post(
            "/auth/register",
            json_body={"username": username, "email": email, "password": password},
        )
        assert reply.status == 201, reply.text
        return Account(username, email, password, reply.json["id"])

    return make


@pytest.fixture(scope="session")
def admin_account(live: Server, server_env: dict[str, str]) -> Account:
    """An administrator made with the CLI against the suite's database, as an operator would."""
    username = f"root-{secrets.token_hex(3)}"
    email = f"{username}@example.com"
    subprocess.run(
        [
            *(str(BIN / "flask"), "--app", "wsgi", "users", "create", username),
            *("--email", email, "--role", "admin", "--password-stdin"),
        ],
        cwd=ROOT,
        env=os.environ | server_env,
        input=ADMIN_PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    tokens = login(live.as_client(), username, ADMIN_PASSWORD)
    me = live.as_client().get("/auth/me", token=tokens["access_token"]).json
    return Account(username, email, ADMIN_PASSWORD, me["id"])


def register_client(server_env: dict[str, str], name: str, scope: str) -> tuple[str, str]:
    """An OAuth client registered with the CLI as an operator would: (client id, secret)."""
    created = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "clients", "create", name, "--scope", scope],
        cwd=ROOT,
        env=os.environ | server_env,
        text=True,
        check=True,
        capture_output=True,
    )
    printed = dict(line.split(":", 1) for line in created.stdout.splitlines() if ":" in line)
    return printed["client_id"].strip(), printed["client_secret"].strip()


@pytest.fixture(scope="session")
def introspecting_client(live: Server, server_env: dict[str, str]) -> tuple[str, str]:
    """An OAuth client allowed to introspect."""
    return register_client(server_env, "resource-server", "introspect")


@pytest.fixture(scope="session")
def every_scope_client(live: Server, server_env: dict[str, str]) -> tuple[str, str]:
    """An OAuth client allowed every client scope, so any scope the document allows is granted."""
    return register_client(server_env, "every-scope", " ".join(CLIENT_SCOPES))


@pytest.fixture(scope="session")
def alice(make_account: Callable[..., Account]) -> Account:
    """Shared by the suite: a test that disables, demotes or re-keys an account makes its own."""
    return make_account("alice")


@pytest.fixture
def alice_tokens(client: Client, alice: Account) -> dict[str, Any]:
    return login(client, alice.username, alice.password)


@pytest.fixture(scope="session")
def bob(make_account: Callable[..., Account]) -> Account:
    return make_account("bob")


@pytest.fixture
def bob_tokens(client: Client, bob: Account) -> dict[str, Any]:
    return login(client, bob.username, bob.password)


@pytest.fixture
def admin_tokens(client: Client, admin_account: Account) -> dict[str, Any]:
    return login(client, admin_account.username, admin_account.password)
