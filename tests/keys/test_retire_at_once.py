"""`flask keys retire --force` is at once: every worker of every host refuses the key within a
second, and no host publishes it any more (docs/keys.md).

Two live hosts (gunicorn, two workers each) share a file database; `flask keys` runs as a
separate process, as an operator would. The key-set refresh interval stays at its default
(30 s), since the promise must not depend on it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest

from myapi.security.key_ring import KEY_STATE_CHECK_SECONDS
from tests.keys.helpers import live_access_token, prepare_service_database, run_flask
from tests.production.servers import Host, call

REQUESTS_PER_HOST = 12  # enough for each of a host's two workers to answer several


@pytest.fixture
def two_hosts(service_env: dict[str, str], tmp_path: Path) -> Iterator[list[Host]]:
    env = service_env | {"KEY_SET_REFRESH_SECONDS": "30"}
    prepare_service_database(env)
    hosts = [Host(env=env, log_path=tmp_path / f"host{n}.log") for n in (1, 2)]
    try:
        yield [host.start() for host in hosts]
    finally:
        for host in hosts:
            host.stop()


def statuses_for(hosts: list[Host], token: str) -> set[int]:
    headers = {"Authorization": f"Bearer {token}"}
    return {
        call(host.url + "/auth/me", headers=headers).status
        for host in hosts
        for _ in range(REQUESTS_PER_HOST)
    }


def published_kids(host: Host) -> set[str]:
    return {jwk["kid"] for jwk in call(host.url + "/.well-known/jwks.json").body["keys"]}


def test_a_forced_retirement_is_refused_everywhere_within_a_second(
    two_hosts: list[Host], service_env: dict[str, str]
) -> None:
    token = live_access_token(two_hosts[0].url)
    old_kid = jwt.get_unverified_header(token)["kid"]
    run_flask(service_env, "keys", "generate")
    run_flask(service_env, "keys", "rotate")
    assert statuses_for(two_hosts, token) == {200}  # every worker holds the key
    assert all(old_kid in published_kids(host) for host in two_hosts)

    run_flask(service_env, "keys", "retire", old_kid, "--force")
    time.sleep(KEY_STATE_CHECK_SECONDS + 0.2)  # the promise under test: within a second

    assert statuses_for(two_hosts, token) == {401}
    assert all(old_kid not in published_kids(host) for host in two_hosts)
