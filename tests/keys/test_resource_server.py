"""Another service verifies this one's tokens from the JWKS alone, across a key rotation.

The service runs for real (gunicorn, two workers, production settings, keys mode)
on a file database; `flask keys` runs as a separate process on the same database,
as an operator would, following the runbook of docs/keys.md (generate, wait for
caches, rotate); the verifier is a third process (resource_server.py) that knows
only the JWKS URL. Every process is stopped by the test.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.helpers.polling import poll
from tests.keys.helpers import live_access_token, prepare_service_database, run_flask
from tests.keys.resource_server import KIDS_QUERY
from tests.production.servers import Host, call, wait_until

RESOURCE_SERVER = Path(__file__).with_name("resource_server.py")
ANSWER_TIMEOUT = 15.0
#: How long the verifier caches the key set (PyJWKClient's `lifespan`), kept short here.
VERIFIER_CACHE_SECONDS = 2


class ResourceServer:
    """The verifier process: one token in, one verdict out."""

    def __init__(self, jwks_url: str) -> None:
        self.process = subprocess.Popen(
            [
                *(sys.executable, str(RESOURCE_SERVER), jwks_url),
                *("myapi", "myapi", str(VERIFIER_CACHE_SECONDS)),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def verify(self, token: str) -> dict[str, Any]:
        return self._ask(token)

    def kids(self) -> set[str]:
        """The kids its next verification would check against (its cache, or a fresh fetch)."""
        return set(self._ask(KIDS_QUERY)["kids"])

    def _ask(self, line: str) -> dict[str, Any]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], ANSWER_TIMEOUT)
        assert ready, "the resource server did not answer in time"
        return json.loads(self.process.stdout.readline())

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture
def service(service_env: dict[str, str], tmp_path: Path) -> Iterator[Host]:
    prepare_service_database(service_env)
    host = Host(env=service_env, log_path=tmp_path / "service.log").start()
    yield host
    host.stop()


@pytest.fixture
def resource_servers() -> Iterator[list[ResourceServer]]:
    started: list[ResourceServer] = []
    yield started
    for server in started:
        server.stop()


def kid_of(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def published_kids(service: Host) -> set[str]:
    return {jwk["kid"] for jwk in call(service.url + "/.well-known/jwks.json").body["keys"]}


def pre_publish_a_new_key(service: Host, env: dict[str, str], verifier: ResourceServer) -> str:
    """`flask keys generate`, then wait until every cache has it: the service's, the verifier's."""
    upcoming = run_flask(env, "keys", "generate").split()[3]
    wait_until(lambda: upcoming in published_kids(service), "the next key in the JWKS", 10)
    # The verifier takes it in when its cached key set (VERIFIER_CACHE_SECONDS) expires.
    poll(
        verifier.kids,
        until=lambda kids: upcoming in kids,
        what="the next key in the resource server's cached key set",
        timeout=VERIFIER_CACHE_SECONDS + 30,
    )
    return upcoming


def test_a_separate_resource_server_verifies_tokens_across_a_rotation(
    service: Host, service_env: dict[str, str], resource_servers: list[ResourceServer]
) -> None:
    jwks_url = service.url + "/.well-known/jwks.json"
    verifier = ResourceServer(jwks_url)
    resource_servers.append(verifier)
    old_token = live_access_token(service.url)
    old_kid = kid_of(old_token)
    assert verifier.verify(old_token) == {
        "valid": True,
        "kid": old_kid,
        "alg": "ES256",
        "sub": "1",
    }

    upcoming = pre_publish_a_new_key(service, service_env, verifier)
    run_flask(service_env, "keys", "rotate")
    fresh: list[str] = []
    wait_until(
        lambda: fresh.append(live_access_token(service.url)) or kid_of(fresh[-1]) == upcoming,
        "a token signed with the new key",
        timeout=10,
    )

    new_token = fresh[-1]
    assert verifier.verify(old_token)["valid"] is True
    assert verifier.verify(new_token) == {
        "valid": True,
        "kid": upcoming,
        "alg": "ES256",
        "sub": "1",
    }
    newcomer = ResourceServer(jwks_url)
    resource_servers.append(newcomer)
    assert newcomer.verify(old_token)["kid"] == old_kid
    assert newcomer.verify(old_token[:-4] + "AAAA") == {
        "valid": False,
        "error": "InvalidSignatureError",
    }
