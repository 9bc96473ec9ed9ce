"""Two gunicorn hosts sharing PostgreSQL and Redis behave as one service."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

from tests.production.servers import Host, call

PASSWORD = "correct horse battery staple"
REQUESTS_PER_HOST = 24  # with 2 workers per host, every worker answers some of them


def register_and_login(host: Host, username: str) -> dict:
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    assert call(host.url + "/auth/register", "POST", body).status == 201
    reply = call(host.url + "/auth/login", "POST", {"username": username, "password": PASSWORD})
    assert reply.status == 200, reply.body
    return reply.body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_logout_on_one_host_is_enforced_at_once_by_every_worker_of_both(two_hosts):
    first, second = two_hosts
    tokens = register_and_login(first, "alice")
    assert call(second.url + "/auth/me", headers=bearer(tokens["access_token"])).status == 200

    assert (
        call(first.url + "/auth/logout", "POST", headers=bearer(tokens["access_token"])).status
        == 204
    )

    answers = [
        call(host.url + "/auth/token-info", headers=bearer(tokens["access_token"]))
        for host in (first, second)
        for _ in range(REQUESTS_PER_HOST)
    ]
    assert {reply.status for reply in answers} == {401}
    assert all('error="invalid_token"' in r.headers["WWW-Authenticate"] for r in answers)
    refreshed = call(second.url + "/auth/refresh", "POST", headers=bearer(tokens["refresh_token"]))
    assert refreshed.status == 401


def test_the_login_limit_counts_attempts_on_both_hosts_together(start_host, production_env):
    env = production_env | {"LOGIN_LIMIT_PER_ACCOUNT": "5 per minute"}
    first, second = start_host(env), start_host(env)
    register_and_login(first, "bob")
    hosts = itertools.cycle((first, second))
    wrong = {"username": "bob", "password": "not the right password"}

    failures = [call(next(hosts).url + "/auth/login", "POST", wrong).status for _ in range(5)]
    sixth_on_first = call(first.url + "/auth/login", "POST", wrong)
    seventh_on_second = call(second.url + "/auth/login", "POST", wrong)

    assert failures == [401] * 5
    assert sixth_on_first.status == 429
    assert seventh_on_second.status == 429
    assert int(seventh_on_second.headers["Retry-After"]) > 0


def test_fifty_concurrent_registrations_of_one_username_create_exactly_one_account(two_hosts):
    first, second = two_hosts
    bodies = [
        {"username": "carol", "email": f"carol{i}@example.com", "password": PASSWORD}
        for i in range(50)
    ]
    targets = [(first if i % 2 else second).url + "/auth/register" for i in range(50)]

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda t, b: call(t, "POST", b).status, targets, bodies))

    assert statuses.count(201) == 1
    assert statuses.count(409) == 49
    logins = [
        call(host.url + "/auth/login", "POST", {"username": "carol", "password": PASSWORD})
        for host in (first, second)
    ]
    assert [reply.status for reply in logins] == [200, 200]


def test_twenty_concurrent_refreshes_with_one_token_continue_a_single_session(two_hosts):
    first, second = two_hosts
    tokens = register_and_login(first, "dave")
    targets = [(first if i % 2 else second).url + "/auth/refresh" for i in range(20)]

    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(
            pool.map(lambda t: call(t, "POST", headers=bearer(tokens["refresh_token"])), targets)
        )

    assert {reply.status for reply in replies} == {200}
    assert len({reply.body["refresh_token"] for reply in replies}) == 1
    assert len({reply.body["access_token"] for reply in replies}) == 1
    new = replies[0].body
    sessions = call(first.url + "/auth/sessions", headers=bearer(new["access_token"]))
    assert len(sessions.body) == 1
    assert (
        call(second.url + "/auth/refresh", "POST", headers=bearer(new["refresh_token"])).status
        == 200
    )


def test_rotating_x_forwarded_for_does_not_escape_the_per_address_login_limit(
    start_host, production_env
):
    host = start_host(
        production_env | {"TRUSTED_PROXIES": "0", "LOGIN_LIMIT_PER_IP": "3 per minute"}
    )
    attempts = [
        call(
            host.url + "/auth/login",
            "POST",
            {"username": f"user{i}", "password": "whatever it is"},
            headers={"X-Forwarded-For": f"203.0.113.{i}", "X-Real-IP": f"198.51.100.{i}"},
        ).status
        for i in range(4)
    ]

    assert attempts == [401, 401, 401, 429]


def test_revoked_tokens_stay_revoked_after_both_hosts_restart(start_host, production_env):
    first, second = start_host(production_env), start_host(production_env)
    tokens = register_and_login(first, "erin")
    call(first.url + "/auth/logout", "POST", headers=bearer(tokens["access_token"]))

    first.stop()
    second.stop()
    first.start()
    second.start()

    for host in (first, second):
        assert call(host.url + "/auth/me", headers=bearer(tokens["access_token"])).status == 401
        assert (
            call(host.url + "/auth/refresh", "POST", headers=bearer(tokens["refresh_token"])).status
            == 401
        )


def test_concurrent_wrong_passwords_on_two_hosts_never_exceed_the_per_account_limit(
    start_host, production_env
):
    env = production_env | {"LOGIN_LIMIT_PER_ACCOUNT": "5 per minute", "TRUSTED_PROXIES": "1"}
    first, second = start_host(env), start_host(env)
    register_and_login(first, "frank")
    wrong = {"username": "frank", "password": "not the right password"}
    targets = [(first if i % 2 else second).url + "/auth/login" for i in range(20)]
    # Each from another address, so only the per-account limit can stop them.
    addresses = [{"X-Forwarded-For": f"203.0.113.{i}"} for i in range(20)]

    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(lambda t, h: call(t, "POST", wrong, h), targets, addresses))

    statuses = [reply.status for reply in replies]
    checked = statuses.count(401)
    assert checked <= 5, statuses
    assert set(statuses) <= {401, 429, 503}
    assert statuses.count(429) >= 15 - statuses.count(503)
    right = call(first.url + "/auth/login", "POST", {"username": "frank", "password": PASSWORD})
    assert right.status == 429


def test_successful_logins_do_not_use_up_the_per_account_limit(start_host, production_env):
    host = start_host(production_env | {"LOGIN_LIMIT_PER_ACCOUNT": "3 per minute"})
    register_and_login(host, "grace")
    body = {"username": "grace", "password": PASSWORD}

    statuses = [call(host.url + "/auth/login", "POST", body).status for _ in range(5)]

    assert statuses == [200] * 5
