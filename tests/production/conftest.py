"""Fixtures for tests against real PostgreSQL, Redis and gunicorn (skipped without them)."""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from tests.production.servers import BIN, ROOT, Host, PrivateRedis
from tests.scratch_database import scratch_postgres_database

DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
REDIS_URL = os.environ.get("TEST_REDIS_URL")


def require_real_servers() -> None:
    if not (DATABASE_URL and REDIS_URL):
        pytest.skip("set TEST_DATABASE_URL and TEST_REDIS_URL to run against real servers")


@pytest.fixture
def database_url() -> Iterator[str]:
    """A fresh PostgreSQL database of this test's own, migrated to head, dropped afterwards."""
    require_real_servers()
    with scratch_postgres_database("myapi_hosts") as url:
        subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            env=os.environ | {"MYAPI_CONFIG": "development", "DATABASE_URL": url},
            check=True,
            capture_output=True,
        )
        yield url


@pytest.fixture
def shared_redis_url() -> Iterator[str]:
    """The tests' own Redis database number, flushed before and after (and nothing else)."""
    require_real_servers()
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def production_env(database_url: str, shared_redis_url: str) -> dict[str, str]:
    """Production settings shared by every host; plain HTTP because the tests talk loopback."""
    return {
        "MYAPI_CONFIG": "production",
        "JWT_SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": database_url,
        "REDIS_URL": shared_redis_url,
        "HTTPS_ONLY": "false",
        "PUBLIC_URL": "http://127.0.0.1",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "2",
        "REGISTER_LIMIT_PER_IP": "1000 per minute",
        "LOGIN_LIMIT_PER_IP": "1000 per minute",
        "RATELIMIT_DEFAULT": "10000 per minute",
    }


@pytest.fixture
def start_host(tmp_path: Path) -> Iterator[Callable[..., Host]]:
    """Start gunicorn hosts on free loopback ports; all are stopped when the test ends."""
    hosts: list[Host] = []

    def start(env: dict[str, str]) -> Host:
        host = Host(env=env, log_path=tmp_path / f"host{len(hosts)}.log").start()
        hosts.append(host)
        return host

    yield start
    for host in hosts:
        host.stop()


@pytest.fixture
def two_hosts(start_host: Callable[..., Host], production_env: dict[str, str]) -> tuple[Host, Host]:
    return start_host(production_env), start_host(production_env)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis().start()
    yield server
    server.stop()
