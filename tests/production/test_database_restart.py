"""Without `pool_pre_ping`, a restart of PostgreSQL costs each worker at most one request.

A restart ends every server process, so every pooled connection is dead. The first
statement on one fails, SQLAlchemy invalidates that worker's whole pool, and the request
is answered 503 with a short `Retry-After`; every later request reconnects. Terminating
the database's backends is exactly what a restart does to the clients, without stopping
the server the rest of the suite shares.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url

from tests.production.servers import Host, Reply, call

WORKERS = 2
PASSWORD = "correct horse battery staple"


def terminate_connections(database_url: str) -> int:
    """End every server process serving this database, as a restart would."""
    name = make_url(database_url).database
    admin = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        ended = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        ).fetchone()
    return ended[0]


def test_a_database_restart_fails_at_most_one_request_per_worker(start_host, production_env):
    # The SQL revocation store: every authenticated request reads the database.
    env = production_env | {"REDIS_URL": "", "RATELIMIT_STORAGE_URI": "memory://"}
    env |= {"GUNICORN_WORKERS": str(WORKERS)}
    host: Host = start_host(env)
    body = {"username": "alice", "email": "alice@example.com", "password": PASSWORD}
    assert call(host.url + "/auth/register", "POST", body).status == 201
    login = call(host.url + "/auth/login", "POST", {"username": "alice", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.body['access_token']}"}
    for _ in range(4 * WORKERS):  # every worker has pooled connections
        assert call(host.url + "/auth/me", headers=headers).status == 200

    assert terminate_connections(production_env["DATABASE_URL"]) >= 1
    answers = until_recovered(lambda: call(host.url + "/auth/me", headers=headers))

    failed = [reply for reply in answers if reply.status != 200]
    assert len(failed) <= WORKERS
    assert all(reply.status == 503 for reply in failed)
    assert all(reply.headers["Retry-After"] == "5" for reply in failed)
    assert all(reply.body["type"] == "urn:myapi:problem:service-unavailable" for reply in failed)
    # Each worker that logged the outage says it is over on its next successful statement,
    # with no /readyz in between. The kernel may hand a busy machine's connections to one
    # worker for a while, so more requests (200s, bounded) reach the other one.
    assert host.log_path.read_text().count("database unavailable") == len(failed) >= 1
    for _ in range(80):
        if host.log_path.read_text().count("database available again") == len(failed):
            break
        assert call(host.url + "/auth/me", headers=headers).status == 200
    assert host.log_path.read_text().count("database available again") == len(failed)


def until_recovered(request: Callable[[], Reply], streak: int = 20, limit: int = 80) -> list[Reply]:
    """Answers until `streak` successes in a row: by then every worker has served one (the
    kernel hands connections to the workers at random) and recovered, or failed the test."""
    answers: list[Reply] = []
    while len(answers) < limit:
        answers.append(request())
        recent = answers[-streak:]
        if len(recent) == streak and all(reply.status == 200 for reply in recent):
            return answers
    raise AssertionError(f"no {streak} successes in a row within {limit} requests")
