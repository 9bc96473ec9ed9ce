"""The security suite's shared settings and accounts: what its servers get, and who logs in."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Any

from tests.security.live import Client

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
#: With both set, every server runs on PostgreSQL and Redis (else on SQLite, one worker).
ON_REAL_SERVERS = bool(TEST_DATABASE_URL and TEST_REDIS_URL)
WORKERS = 2 if ON_REAL_SERVERS else 1

CORS_ORIGIN = "https://app.example.com"
#: Where the links in the servers' emails point (the front-end, not the API).
FRONTEND_URL = "https://app.myapi.test"

ADMIN_PASSWORD = "administrator passphrase " + secrets.token_hex(8)


@dataclass
class Account:
    username: str
    email: str
    password: str
    id: int


def login(client: Client, username: str, password: str, **extra: Any) -> dict[str, Any]:
    reply = client.post(
        "/auth/login", json_body={"username": username, "password": password, **extra}
    )
    assert reply.status == 200, reply.text
    return reply.json
