"""Shared values and steps of the signing-key tests."""

from __future__ import annotations

import os
import subprocess

from cryptography.fernet import Fernet

from tests.production.servers import BIN, ROOT, call

ENCRYPTION_KEY = Fernet.generate_key().decode()
#: Alice's password on the live services of these tests.
PASSWORD = "resource server passphrase"


def run_flask(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """`flask --app wsgi ...` as a separate process on the service's database, as an
    operator would run it."""
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=os.environ | env,
        input=stdin,
        text=True,
        capture_output=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def prepare_service_database(env: dict[str, str]) -> None:
    """Migrated, with a first signing key and the user alice."""
    run_flask(env, "db", "upgrade")
    run_flask(env, "keys", "generate")
    run_flask(
        env,
        *("users", "create", "alice", "--email", "alice@example.com", "--password-stdin"),
        stdin=PASSWORD + "\n",
    )


def live_access_token(base_url: str) -> str:
    """Alice's access token from a live service."""
    reply = call(base_url + "/auth/login", "POST", {"username": "alice", "password": PASSWORD})
    assert reply.status == 200, reply.body
    return reply.body["access_token"]
