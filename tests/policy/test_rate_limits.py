"""Rate limits (catalogue E2-E5): per account and per address, answered as problem+json 429s."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from myapi import config, create_app
from myapi.security import passwords
from myapi.services import accounts
from myapi.services.accounts import MAX_IDENTIFIER_LENGTH
from tests.helpers.http import PASSWORD, assert_problem, refresh

WRONG = "not the right password"


def login(client: FlaskClient, username: str, password: str = WRONG, ip: str = "10.0.0.1") -> Any:
    return client.post(
        "/auth/login",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def register(client: FlaskClient, n: int, ip: str = "10.0.0.1") -> Any:
    return client.post(
        "/auth/register",
        json={"username": f"user{n}", "email": f"user{n}@example.com", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": ip},
    )


def assert_rate_limited(response: Any) -> dict[str, Any]:
    body = assert_problem(response, 429)
    assert body["type"] == "urn:myapi:problem:rate-limited"
    assert int(response.headers["Retry-After"]) > 0
    return body


# --- Per account ---


def test_the_sixth_failed_login_for_one_account_is_refused(client: FlaskClient, alice: Any) -> None:
    failures = [login(client, "alice") for _ in range(5)]

    sixth = login(client, "alice")

    assert [r.status_code for r in failures] == [401] * 5
    assert_rate_limited(sixth)


def test_the_account_limit_counts_failures_from_every_address(
    client: FlaskClient, alice: Any
) -> None:
    for n in range(5):
        assert login(client, "alice", ip=f"198.51.100.{n}").status_code == 401

    response = login(client, "alice", ip="203.0.113.99")

    assert_rate_limited(response)


def test_the_account_limit_ignores_the_case_of_the_username(
    client: FlaskClient, alice: Any
) -> None:
    for name in ("alice", "Alice", "ALICE", "aLiCe", " alice "):
        assert login(client, name).status_code == 401

    assert_rate_limited(login(client, "AlIcE"))


def test_once_an_account_is_limited_even_the_right_password_waits(
    client: FlaskClient, alice: Any
) -> None:
    for _ in range(5):
        login(client, "alice")

    response = login(client, "alice", PASSWORD)

    assert_rate_limited(response)
    assert "access_token" not in response.get_data(as_text=True)


def test_successful_logins_do_not_use_up_the_account_limit(client: FlaskClient, alice: Any) -> None:
    successes = [login(client, "alice", PASSWORD) for _ in range(8)]

    failures = [login(client, "alice") for _ in range(5)]

    assert [r.status_code for r in successes] == [200] * 8
    assert [r.status_code for r in failures] == [401] * 5


def test_logins_shed_while_hashing_is_busy_do_not_use_up_the_account_limit(
    app: Flask, client: FlaskClient, alice: Any
) -> None:
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "2 per minute"
    slots = [
        passwords._in_flight.acquire(blocking=False) for _ in range(passwords._HASHES_IN_FLIGHT)
    ]
    try:
        shed = [login(client, "alice", PASSWORD) for _ in range(3)]
    finally:
        for _ in filter(None, slots):
            passwords._in_flight.release()

    failures = [login(client, "alice") for _ in range(2)]

    assert [r.status_code for r in shed] == [503] * 3
    assert [r.status_code for r in failures] == [401] * 2


def test_one_account_being_limited_does_not_limit_another(
    client: FlaskClient, alice: Any, bob: Any
) -> None:
    for _ in range(6):
        login(client, "alice")

    response = login(client, "bob", PASSWORD)

    assert response.status_code == 200


# --- Per address ---


def test_the_twenty_first_login_from_one_address_is_refused(client: FlaskClient) -> None:
    attempts = [login(client, f"guess{n}") for n in range(20)]

    response = login(client, "guess20")

    assert [r.status_code for r in attempts] == [401] * 20
    assert_rate_limited(response)


def test_the_address_limit_counts_successful_logins_too(client: FlaskClient, alice: Any) -> None:
    for n in range(19):
        login(client, f"guess{n}")
    assert login(client, "alice", PASSWORD).status_code == 200

    assert_rate_limited(login(client, "alice", PASSWORD))


def test_another_address_is_not_limited_by_the_first(client: FlaskClient) -> None:
    for n in range(21):
        login(client, f"guess{n}", ip="10.0.0.1")

    response = login(client, "someone", ip="10.0.0.2")

    assert response.status_code == 401


def test_a_forged_forwarded_for_header_does_not_escape_the_address_limit(
    client: FlaskClient,
) -> None:
    for n in range(20):
        client.post(
            "/auth/login",
            json={"username": f"guess{n}", "password": WRONG},
            headers={"X-Forwarded-For": f"192.0.2.{n}", "X-Real-IP": f"192.0.2.{n}"},
        )

    response = client.post(
        "/auth/login",
        json={"username": "guess20", "password": WRONG},
        headers={"X-Forwarded-For": "192.0.2.200", "Forwarded": "for=192.0.2.200"},
    )

    assert_rate_limited(response)


def test_the_eleventh_registration_from_one_address_in_an_hour_is_refused(
    client: FlaskClient,
) -> None:
    created = [register(client, n) for n in range(10)]

    response = register(client, 10)

    assert [r.status_code for r in created] == [201] * 10
    assert_rate_limited(response)
    assert register(client, 11, ip="10.0.0.2").status_code == 201


def test_a_refused_registration_creates_no_account(client: FlaskClient) -> None:
    for n in range(10):
        register(client, n)

    assert register(client, 10).status_code == 429

    assert login(client, "user10", PASSWORD, ip="10.9.9.9").status_code == 401


NO_USABLE_USERNAME = {
    "no username": {"password": WRONG},
    "a number": {"username": 7, "password": WRONG},
    "null": {"username": None, "password": WRONG},
    "blank": {"username": "  ", "password": WRONG},
    "a list body": ["alice", WRONG],
}


@pytest.mark.parametrize("body", NO_USABLE_USERNAME.values(), ids=NO_USABLE_USERNAME)
def test_a_login_that_names_no_account_is_counted_against_its_address(
    app: Flask, client: FlaskClient, body: Any
) -> None:
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "2 per minute"

    def attempt(ip: str) -> Any:
        return client.post("/auth/login", json=body, environ_base={"REMOTE_ADDR": ip})

    first, second, third = (attempt("10.0.0.1") for _ in range(3))
    elsewhere = attempt("10.0.0.2")

    assert {first.status_code, second.status_code} <= {401, 422}
    assert_rate_limited(third)
    assert elsewhere.status_code == first.status_code


def test_a_login_body_that_is_not_valid_json_is_counted_against_its_address(
    app: Flask, client: FlaskClient
) -> None:
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "2 per minute"

    def attempt(ip: str) -> Any:
        return client.post(
            "/auth/login",
            data='{"username": "alice",',
            content_type="application/json",
            environ_base={"REMOTE_ADDR": ip},
        )

    first, second, third = (attempt("10.0.0.1") for _ in range(3))
    elsewhere = attempt("10.0.0.2")

    assert first.status_code == second.status_code == elsewhere.status_code != 429
    assert_rate_limited(third)


def test_an_account_with_the_longest_email_is_counted_once_by_either_name(
    app: Flask, client: FlaskClient
) -> None:
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "2 per minute"
    email = "a" * (MAX_IDENTIFIER_LENGTH - len("@example.com")) + "@example.com"
    accounts.register("longest", email, PASSWORD)

    by_name, by_email = login(client, "longest"), login(client, email, ip="10.0.0.2")
    third = login(client, "longest", ip="10.0.0.3")

    assert (by_name.status_code, by_email.status_code) == (401, 401)
    assert_rate_limited(third)


def test_a_name_longer_than_any_account_s_is_counted_against_its_address(
    app: Flask, client: FlaskClient
) -> None:
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "2 per minute"
    overlong = "a" * (MAX_IDENTIFIER_LENGTH + 1)

    first, second, third = (login(client, overlong) for _ in range(3))
    elsewhere = login(client, overlong, ip="10.0.0.2")

    assert first.status_code == second.status_code == elsewhere.status_code == 422
    assert_rate_limited(third)


# --- Configuration read at request time ---


def test_a_lowered_account_limit_applies_at_once(
    app: Flask, client: FlaskClient, alice: Any
) -> None:
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "2 per minute"

    first, second, third = (login(client, "alice") for _ in range(3))

    assert (first.status_code, second.status_code) == (401, 401)
    assert_rate_limited(third)


def test_a_raised_account_limit_applies_at_once(
    app: Flask, client: FlaskClient, alice: Any
) -> None:
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "8 per minute"

    responses = [login(client, "alice") for _ in range(8)]

    assert [r.status_code for r in responses] == [401] * 8
    assert_rate_limited(login(client, "alice"))


def test_a_lowered_address_limit_applies_at_once(app: Flask, client: FlaskClient) -> None:
    app.config["LOGIN_LIMIT_PER_IP"] = "3 per minute"

    responses = [login(client, f"guess{n}") for n in range(4)]

    assert [r.status_code for r in responses[:3]] == [401] * 3
    assert_rate_limited(responses[3])


def test_a_lowered_registration_limit_applies_at_once(app: Flask, client: FlaskClient) -> None:
    app.config["REGISTER_LIMIT_PER_IP"] = "1 per hour"

    assert register(client, 1).status_code == 201

    assert_rate_limited(register(client, 2))


# --- Exemptions and the default limit ---


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_endpoints_are_exempt_from_rate_limits(client: FlaskClient, path: str) -> None:
    default_limit = int(client.get("/auth/me").headers["X-RateLimit-Limit"])

    responses = [client.get(path) for _ in range(default_limit + 1)]

    assert {r.status_code for r in responses} == {200}
    assert all("X-RateLimit-Limit" not in r.headers for r in responses)


def test_other_endpoints_carry_the_default_limit(client: FlaskClient) -> None:
    response = client.get("/auth/me")

    assert int(response.headers["X-RateLimit-Limit"]) > 0
    assert "Retry-After" not in response.headers  # only a 429 (or 503) says when to retry


def test_users_behind_one_address_each_have_their_own_default_limit(
    app: Flask, client: FlaskClient, alice_headers: dict[str, str], bob_headers: dict[str, str]
) -> None:
    app.config["RATELIMIT_DEFAULT"] = "3 per minute"

    alices = [client.get("/api/v1/notes", headers=alice_headers) for _ in range(4)]
    bobs = client.get("/api/v1/notes", headers=bob_headers)
    anonymous = client.get("/api/v1/notes")

    assert [r.status_code for r in alices[:3]] == [200, 200, 200]
    assert_rate_limited(alices[3])
    assert bobs.status_code == 200
    assert anonymous.status_code == 401


TOKENS_THAT_DO_NOT_VERIFY = {
    "not a JWT": "not.a.token",
    "a JWT signed with another key": jwt.encode(
        {"sub": "1", "type": "access"}, "another key, long enough for HS256", "HS256"
    ),
}


@pytest.mark.parametrize("token", TOKENS_THAT_DO_NOT_VERIFY.values(), ids=TOKENS_THAT_DO_NOT_VERIFY)
def test_requests_with_a_token_that_does_not_verify_count_against_the_address(
    app: Flask, client: FlaskClient, token: str
) -> None:
    app.config["RATELIMIT_DEFAULT"] = "3 per minute"

    sent = {"Authorization": f"Bearer {token}"}
    answers = [client.get("/auth/me", headers=sent) for _ in range(3)]
    anonymous = client.get("/auth/me")

    assert [answer.status_code for answer in answers] == [401, 401, 401]
    assert_rate_limited(anonymous)


def test_a_head_request_counts_for_its_caller_like_the_get_it_mirrors(
    app: Flask, client: FlaskClient, alice_headers: dict[str, str], bob_headers: dict[str, str]
) -> None:
    app.config["RATELIMIT_DEFAULT"] = "3 per minute"

    heads = [client.head("/api/v1/notes", headers=alice_headers) for _ in range(3)]
    alices_get = client.get("/api/v1/notes", headers=alice_headers)
    bobs_get = client.get("/api/v1/notes", headers=bob_headers)

    assert [r.status_code for r in heads] == [200, 200, 200]
    assert_rate_limited(alices_get)
    assert bobs_get.status_code == 200


def test_a_public_endpoint_counts_the_address_whatever_token_is_sent(
    app: Flask, client: FlaskClient, alice_headers: dict[str, str], bob_headers: dict[str, str]
) -> None:
    # Only endpoints that need a token count per caller; a token sent elsewhere names no one.
    app.config["RATELIMIT_DEFAULT"] = "2 per minute"

    alices = [client.get("/openapi.json", headers=alice_headers) for _ in range(2)]
    bobs = client.get("/openapi.json", headers=bob_headers)

    assert [r.status_code for r in alices] == [200, 200]
    assert_rate_limited(bobs)


def test_refreshes_are_counted_for_their_session_holder_not_the_address(
    app: Flask, client: FlaskClient, login: Any, alice: Any, bob: Any
) -> None:
    alices_refresh = login("alice")["refresh_token"]
    bobs_refresh = login("bob")["refresh_token"]
    app.config["RATELIMIT_DEFAULT"] = "2 per minute"

    alices = []
    for _ in range(3):
        alices.append(refresh(client, alices_refresh))
        if alices[-1].status_code == 200:
            alices_refresh = alices[-1].json["refresh_token"]
    bobs = refresh(client, bobs_refresh)

    assert [r.status_code for r in alices[:2]] == [200, 200]
    assert_rate_limited(alices[2])
    assert bobs.status_code == 200


def test_the_configured_default_limit_applies_to_other_endpoints() -> None:
    # Every app built in the process must honour its own RATELIMIT_DEFAULT.
    app = create_app(config.Testing(RATELIMIT_DEFAULT="2 per minute"))
    client = app.test_client()

    responses = [client.get("/auth/me") for _ in range(3)]

    assert [r.status_code for r in responses[:2]] == [401, 401]
    assert responses[0].headers["X-RateLimit-Limit"] == "2"
    assert_rate_limited(responses[2])


@pytest.mark.parametrize("path", ["/auth/register", "/auth/login"])
def test_a_503_for_an_unavailable_database_carries_its_own_retry_after(path: str) -> None:
    # Nothing listens on port 1: the database is down. Registration's limit window is an hour;
    # a client obeying that during a five-second outage would stay away for the hour.
    down = "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2"
    client = create_app(config.Testing(SQLALCHEMY_DATABASE_URI=down)).test_client()
    body = {"username": "alice", "email": "alice@example.com", "password": PASSWORD}

    response = client.post(path, json=body)

    assert assert_problem(response, 503)["type"] == "urn:myapi:problem:service-unavailable"
    assert response.headers["Retry-After"] == "5"
