"""The authenticated hot path stays cheap without giving up a check (issue 7).

Speed itself is measured by `make bench`, never here; these tests pin the behaviour
the optimisations must keep.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from myapi.security import passwords
from myapi.security.passwords import hash_password, verify_password
from tests.helpers.http import PASSWORD, assert_problem, bearer

TOKEN_ONLY = ["/auth/token-info", "/auth/me"]
#: The `thread_name_prefix` of the one hashing thread per process (`myapi.security.passwords`).
HASHING_THREAD = "password-hash"


@pytest.mark.parametrize("path", ["/auth/token-info", "/auth/me", "/api/v1/notes"])
def test_an_ordinary_authenticated_request_writes_nothing(
    client: FlaskClient, alice_headers: dict[str, str], statements: list[str], path: str
) -> None:
    client.get(path, headers=alice_headers)  # the first request may fill caches
    statements.clear()

    for _ in range(3):
        assert client.get(path, headers=alice_headers).status_code == 200

    writes = [s for s in statements if s not in {"SELECT", "WITH"}]
    assert writes == []


@pytest.mark.parametrize("path", TOKEN_ONLY)
def test_with_redis_a_token_only_request_sends_no_database_statement(
    app: Flask,
    client: FlaskClient,
    alice_headers: dict[str, str],
    statements: list[str],
    redis_round_trips: list[str],
    path: str,
) -> None:
    client.get(path, headers=alice_headers)  # fills the cached account
    statements.clear()

    for _ in range(3):
        assert client.get(path, headers=alice_headers).status_code == 200

    assert statements == []


@pytest.mark.parametrize("path", TOKEN_ONLY)
def test_with_redis_limit_and_revocation_share_one_round_trip(
    client: FlaskClient, alice_headers: dict[str, str], redis_round_trips: list[str], path: str
) -> None:
    client.get(path, headers=alice_headers)  # loads the scripts and the cached account
    redis_round_trips.clear()

    for _ in range(3):
        assert client.get(path, headers=alice_headers).status_code == 200

    assert redis_round_trips == ["EVALSHA"] * 3


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)  # the SQL revocation store
def test_without_redis_a_token_only_request_costs_one_query(
    app: Flask, client: FlaskClient, alice_headers: dict[str, str], statements: list[str]
) -> None:
    assert not app.config["REDIS_URL"]
    for path in TOKEN_ONLY:
        statements.clear()

        assert client.get(path, headers=alice_headers).status_code == 200

        assert statements == ["SELECT"]


def test_a_request_with_a_refused_token_is_counted_per_address_without_reading_revocation(
    client: FlaskClient, redis_round_trips: list[str]
) -> None:
    client.get("/auth/me", headers=bearer("not-a-token"))
    redis_round_trips.clear()

    assert client.get("/auth/me", headers=bearer("not-a-token")).status_code == 401

    assert redis_round_trips == ["EVALSHA"]


def test_rate_limit_headers_count_down_within_one_window(
    app: Flask, client: FlaskClient, alice_headers: dict[str, str]
) -> None:
    first = client.get("/auth/token-info", headers=alice_headers)
    second = client.get("/auth/token-info", headers=alice_headers)

    limit = int(first.headers["X-RateLimit-Limit"])
    assert int(first.headers["X-RateLimit-Remaining"]) == limit - 1
    assert int(second.headers["X-RateLimit-Remaining"]) == limit - 2
    reset = int(second.headers["X-RateLimit-Reset"])
    assert time.time() - 1 <= reset <= time.time() + 61


def _resign(app: Flask, token: str, **changes: Any) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    for name, value in changes.items():
        if value is None:
            claims.pop(name)
        else:
            claims[name] = value
    return jwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")


@pytest.mark.parametrize(
    "changes",
    [
        {"sid": None},
        {"type": None},
        {"iss": "someone-else"},
        {"aud": None},
        {"exp": 1, "iat": 0, "nbf": 0},
        {"exp": 1, "iat": 0, "nbf": 0, "sid": None},
        {"nbf": int(time.time()) + 3600},
    ],
    ids=["no-sid", "no-type", "wrong-iss", "no-aud", "expired", "expired-no-sid", "not-yet"],
)
def test_decoding_once_keeps_every_claim_check(
    app: Flask, client: FlaskClient, alice_tokens: dict[str, Any], changes: dict[str, Any]
) -> None:
    forged = _resign(app, alice_tokens["access_token"], **changes)

    body = assert_problem(client.get("/auth/token-info", headers=bearer(forged)), 401)

    assert body["type"] == "urn:myapi:problem:invalid-token"


def test_a_token_signed_with_another_algorithm_is_refused(
    app: Flask, client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    claims = jwt.decode(alice_tokens["access_token"], options={"verify_signature": False})
    forged = jwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS512")

    assert_problem(client.get("/auth/token-info", headers=bearer(forged)), 401)


def recording_thread(
    werkzeug_function: Callable[..., Any], password_at: int, seen: list[tuple[str, str, str]]
) -> Callable[..., Any]:
    """The werkzeug function, noting (its name, the password it got, the thread it ran on)."""

    def record(*args: Any, **kwargs: Any) -> Any:
        thread = threading.current_thread().name
        seen.append((werkzeug_function.__name__, args[password_at], thread))
        return werkzeug_function(*args, **kwargs)

    return record


def test_passwords_hash_and_verify_on_the_hashing_thread(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str, str]] = []
    generate = recording_thread(passwords.generate_password_hash, 0, seen)
    check = recording_thread(passwords.check_password_hash, 1, seen)
    monkeypatch.setattr(passwords, "generate_password_hash", generate)
    monkeypatch.setattr(passwords, "check_password_hash", check)
    wrong = PASSWORD + "x"

    with app.test_request_context():
        stored = hash_password(PASSWORD)
        verdicts = [
            verify_password(stored, PASSWORD),
            verify_password(stored, wrong),
            verify_password(None, PASSWORD),  # unknown account: checked against a dummy hash
        ]

    assert verdicts == [True, False, False]
    # Every hash runs there, the dummy one too (made from a random value, once per process
    # and method, so it is not in the sequence of the test's own passwords below).
    assert {re.sub(r"_[0-9]+$", "", thread) for _, _, thread in seen} == {HASHING_THREAD}
    with_a_password = [
        (function, password, re.sub(r"_[0-9]+$", "", thread))
        for function, password, thread in seen
        if password in (PASSWORD, wrong)
    ]
    assert with_a_password == [
        ("generate_password_hash", PASSWORD, HASHING_THREAD),
        ("check_password_hash", PASSWORD, HASHING_THREAD),
        ("check_password_hash", wrong, HASHING_THREAD),
        ("check_password_hash", PASSWORD, HASHING_THREAD),
    ]


def test_hashes_run_one_at_a_time_on_one_low_priority_thread_per_process(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[tuple[int, int, float, float]] = []
    generate = passwords.generate_password_hash

    def record(*args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        time.sleep(0.05)  # long enough for a second hash to overlap, were it allowed to
        result = generate(*args, **kwargs)
        thread = threading.get_native_id()
        ran.append((thread, os.getpriority(os.PRIO_PROCESS, thread), started, time.monotonic()))
        return result

    monkeypatch.setattr(passwords, "generate_password_hash", record)
    monkeypatch.setattr(passwords, "_pool", None)  # as in a process that has not hashed yet

    def hash_one() -> None:
        with app.test_request_context():
            hash_password(PASSWORD)

    hash_one()
    both = [threading.Thread(target=hash_one) for _ in range(2)]  # the two allowed in flight
    for thread in both:
        thread.start()
    for thread in both:
        thread.join(timeout=30)

    assert len(ran) == 3
    assert len({thread for thread, *_ in ran}) == 1
    spans = sorted((started, ended) for *_, started, ended in ran)
    assert all(ended <= next_start for (_, ended), (next_start, _) in itertools.pairwise(spans))
    if os.getpriority(os.PRIO_PROCESS, 0) <= 10:  # a process already nicer keeps its niceness
        assert {niceness for _, niceness, *_ in ran} == {10}


def test_after_the_first_time_an_unknown_account_costs_one_hash_like_a_known_one(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The dummy hash an unknown account is checked against, and the configured method's
    # canonical form, are made once per process: a login never pays for them again.
    seen: list[tuple[str, str, str]] = []
    with app.test_request_context():
        stored = hash_password(PASSWORD)
        verify_password(None, PASSWORD)
        passwords.needs_rehash(stored)
        monkeypatch.setattr(
            passwords,
            "generate_password_hash",
            recording_thread(passwords.generate_password_hash, 0, seen),
        )
        monkeypatch.setattr(
            passwords,
            "check_password_hash",
            recording_thread(passwords.check_password_hash, 1, seen),
        )

        verify_password(None, PASSWORD)
        verify_password(stored, PASSWORD)
        passwords.needs_rehash(stored)

    assert [function for function, *_ in seen] == ["check_password_hash"] * 2


def test_deciding_whether_a_hash_needs_upgrading_takes_no_hashing_slot(app: Flask) -> None:
    with app.test_request_context():
        stored = hash_password(PASSWORD)
        passwords.needs_rehash(stored)  # the configured method's form, made once per process
        taken = [passwords._in_flight.acquire(blocking=False) for _ in range(2)]
        try:
            upgrade = passwords.needs_rehash(stored)
        finally:
            for _ in filter(None, taken):
                passwords._in_flight.release()

    assert upgrade is False


def test_the_common_password_list_is_read_once_per_process() -> None:
    assert passwords.common_passwords() is passwords.common_passwords()


def test_a_login_beyond_the_hashes_in_flight_is_shed_with_503(
    client: FlaskClient, alice: Any
) -> None:
    one_in_flight = passwords._in_flight.acquire(blocking=False)
    try:
        second = client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
        two_in_flight = passwords._in_flight.acquire(blocking=False)
        try:
            reply = client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
        finally:
            if two_in_flight:
                passwords._in_flight.release()
    finally:
        if one_in_flight:
            passwords._in_flight.release()

    assert second.status_code == 200
    assert_problem(reply, 503)
    assert reply.headers["Retry-After"] == "1"
    assert (
        client.post("/auth/login", json={"username": "alice", "password": PASSWORD}).status_code
        == 200
    )
