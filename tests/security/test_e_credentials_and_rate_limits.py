"""Catalogue group E: credentials, login and rate limiting."""

from __future__ import annotations

import json
import secrets
import statistics
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.helpers.polling import poll
from tests.mail.smtp_server import RESET_SUBJECT, LoopbackSMTP, link_in, token_in
from tests.security.expect import assert_generic_problem
from tests.security.live import Client, Reply, Server, next_client_ip, raw_exchange
from tests.security.suite import FRONTEND_URL, Account, login

LOGIN = "/auth/login"
# Production defaults, which the suite's servers keep (conftest sets no limit of its own).
PER_ACCOUNT = 5
PER_ADDRESS = 20


WRONG_PASSWORD = "not the password at all"


def attempt(client: Client, username: str, password: str = WRONG_PASSWORD) -> Reply:
    return client.post(LOGIN, json_body={"username": username, "password": password})


def test_E1_wrong_password_and_unknown_user_look_the_same(
    live: Server, make_account: Callable[..., Account]
) -> None:
    # 12 of each, not 50: the per-account limit allows 5 failures a minute, so the real
    # side is spread over 3 accounts (4 each) and every attempt comes from its own address.
    # The two kinds alternate, so load from elsewhere on the machine hits both alike.
    accounts = [make_account("ivan") for _ in range(3)]
    real, unknown = [], []
    for account in accounts * 4:
        real.append(attempt(live.as_client(), account.username))
        unknown.append(attempt(live.as_client(), f"nobody-{secrets.token_hex(6)}"))

    assert {r.status for r in real + unknown} == {401}
    assert len({r.raw for r in real + unknown}) == 1
    assert {r.header("WWW-Authenticate") for r in real + unknown} == {'Bearer realm="myapi"'}
    real_median = statistics.median(r.seconds for r in real)
    unknown_median = statistics.median(r.seconds for r in unknown)
    assert abs(real_median - unknown_median) < max(0.05, 0.5 * real_median)


def test_E2_failures_from_rotating_addresses_are_counted_per_account(
    live: Server, alice: Account, make_account: Callable[..., Account]
) -> None:
    judy = make_account("judy")

    replies = [attempt(live.as_client(), judy.username) for _ in range(PER_ACCOUNT + 1)]

    assert [r.status for r in replies] == [401] * PER_ACCOUNT + [429]
    # A bounded throttle, not a lockout: the wait is at most the one-minute window.
    assert 0 < int(replies[-1].header("Retry-After")) <= 60


def test_E2_spoofed_forwarded_for_straight_at_gunicorn_changes_nothing(
    direct: Server, make_account: Callable[..., Account]
) -> None:
    kim = make_account("kim")
    client = direct.as_client()

    replies = [
        attempt(
            client.with_headers({"X-Forwarded-For": f"203.0.113.{n}"}),
            kim.username,
        )
        for n in range(PER_ACCOUNT + 1)
    ]

    assert [r.status for r in replies] == [401] * PER_ACCOUNT + [429]


def test_E3_the_address_limit_holds_whichever_worker_answers(live: Server) -> None:
    client = live.as_client()

    replies = [attempt(client, f"nobody-{secrets.token_hex(6)}") for _ in range(PER_ADDRESS + 1)]

    assert [r.status for r in replies] == [401] * PER_ADDRESS + [429]


def test_E4_rotating_forwarding_headers_straight_at_gunicorn_is_still_limited(
    direct: Server,
) -> None:
    client = direct.as_client()

    replies = [
        attempt(
            client.with_headers(
                {
                    "X-Forwarded-For": f"203.0.113.{n}",
                    "X-Real-IP": f"203.0.113.{n}",
                    "Forwarded": f"for=203.0.113.{n}",
                }
            ),
            f"nobody-{secrets.token_hex(6)}",
        )
        for n in range(PER_ADDRESS + 1)
    ]

    assert [r.status for r in replies][-1] == 429
    assert 401 in {r.status for r in replies}


def test_E5_rate_limited_answer_is_json_with_retry_after(
    live: Server, make_account: Callable[..., Account]
) -> None:
    leo = make_account("leo")
    client = live.as_client()
    for _ in range(PER_ACCOUNT):
        attempt(client, leo.username)

    reply = attempt(client, leo.username)

    body = assert_generic_problem(reply, 429)
    assert body["type"] == "urn:myapi:problem:rate-limited"
    assert int(reply.header("Retry-After")) > 0
    assert reply.header("X-RateLimit-Limit")
    assert reply.header("X-RateLimit-Remaining") == "0"


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        ("7 chars", False),
        ("password1234567", False),
        ("correct horse battery staple " + "x" * 35, True),  # 64 characters
        ("a" * 1000, False),
        ("ünïcödé pässwörd with spaces ☃", True),
    ],
    ids=["7-chars", "padded-common", "64-char-passphrase", "1000-chars", "unicode-spaces"],
)
def test_E6_password_policy_at_registration(live: Server, password: str, accepted: bool) -> None:
    username = f"pw-{secrets.token_hex(5)}"

    reply = live.as_client().post(
        "/auth/register",
        json_body={"username": username, "email": f"{username}@example.com", "password": password},
    )

    if accepted:
        assert reply.status == 201, reply.text
        assert login(live.as_client(), username, password)  # stored exactly, not truncated
    else:
        body = assert_generic_problem(reply, 422)
        assert "password" in body["errors"]


def test_E6_password_policy_at_change(client: Client, make_account: Callable[..., Account]) -> None:
    mia = make_account("mia")
    token = login(client, mia.username, mia.password)["access_token"]

    reply = client.put(
        "/auth/password",
        json_body={"current_password": mia.password, "new_password": "password1234567"},
        token=token,
    )

    assert_generic_problem(reply, 422)
    assert login(client, mia.username, mia.password)


@pytest.mark.parametrize("current", [None, "not the current password"], ids=["missing", "wrong"])
def test_E7_password_change_needs_the_current_password(
    client: Client, make_account: Callable[..., Account], current: str | None
) -> None:
    nina = make_account("nina")
    token = login(client, nina.username, nina.password)["access_token"]
    body: dict[str, Any] = {"new_password": "an entirely new passphrase"}
    if current is not None:
        body["current_password"] = current

    reply = client.put("/auth/password", json_body=body, token=token)

    assert reply.status in (400, 403, 422), reply.text
    assert login(client, nina.username, nina.password)
    assert (
        client.post(
            LOGIN, json_body={"username": nina.username, "password": body["new_password"]}
        ).status
        == 401
    )


FORGOT = "/auth/password/forgot"
RESET = "/auth/password/reset"
#: Headers that differ between any two answers, whatever they answer.
PER_REQUEST = {"date", "x-request-id", "x-ratelimit-reset"}


def forgot(client: Client, email: str) -> Reply:
    return client.post(FORGOT, json_body={"email": email})


def answer_shape(reply: Reply) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = sorted(
        (n.lower(), v) for n, v in reply.headers.items() if n.lower() not in PER_REQUEST
    )
    return reply.status, reply.raw, headers


def emailed_token(mailbox: LoopbackSMTP, address: str) -> str:
    (message,) = poll(
        lambda: mailbox.to(address, RESET_SUBJECT),
        bool,
        f"the reset email to {address}",
        timeout=20,
    )
    return token_in(message)


def test_E8_forgot_password_answers_alike_for_an_account_and_an_unknown_email(
    live: Server, make_account: Callable[..., Account], mailbox: LoopbackSMTP
) -> None:
    accounts = [make_account("erin") for _ in range(4)]
    real, unknown = [], []
    for account in accounts:
        real.append(forgot(live.as_client(), account.email))
        unknown.append(forgot(live.as_client(), f"nobody-{secrets.token_hex(6)}@example.com"))

    assert {r.status for r in real + unknown} == {202}
    assert len({repr(answer_shape(r)) for r in real + unknown}) == 1
    for account in accounts:  # the accounts did get their link, after the answer
        assert emailed_token(mailbox, account.email).startswith("myapi_pwr_")


def test_E8_the_reset_token_is_single_use(
    live: Server, make_account: Callable[..., Account], mailbox: LoopbackSMTP
) -> None:
    account = make_account("frank")
    assert forgot(live.as_client(), account.email).status == 202
    token = emailed_token(mailbox, account.email)
    new_password = f"reset passphrase {secrets.token_hex(4)}"

    first = live.as_client().post(RESET, json_body={"token": token, "new_password": new_password})
    second = live.as_client().post(
        RESET, json_body={"token": token, "new_password": new_password + " again"}
    )
    unknown = live.as_client().post(
        RESET, json_body={"token": "myapi_pwr_" + "A" * 43, "new_password": new_password}
    )

    assert first.status == 204
    assert second.status == unknown.status == 400
    assert second.raw == unknown.raw
    login(live.as_client(), account.username, new_password)


def test_E8_a_reset_ends_the_accounts_sessions_on_every_worker(
    live: Server, make_account: Callable[..., Account], mailbox: LoopbackSMTP
) -> None:
    account = make_account("gina")
    tokens = login(live.as_client(), account.username, account.password)
    forgot(live.as_client(), account.email)
    token = emailed_token(mailbox, account.email)

    reset = live.as_client().post(
        RESET, json_body={"token": token, "new_password": f"passphrase {secrets.token_hex(4)}"}
    )

    assert reset.status == 204
    # Each request may land on either worker: every one of them refuses the old tokens.
    for _ in range(6):
        assert live.as_client().get("/auth/me", token=tokens["access_token"]).status == 401
        assert live.as_client().post("/auth/refresh", token=tokens["refresh_token"]).status == 401


@pytest.mark.parametrize("server_name", ["live", "direct"])
def test_E9_a_forged_host_does_not_change_the_emailed_link(
    server_name: str,
    request: pytest.FixtureRequest,
    make_account: Callable[..., Account],
    mailbox: LoopbackSMTP,
) -> None:
    server: Server = request.getfixturevalue(server_name)
    account = make_account("hugo")
    body = json.dumps({"email": account.email}).encode()
    forwarded = (
        f"X-Forwarded-For: {next_client_ip()}\r\nX-Forwarded-Proto: https\r\n"
        if server.behind_proxy
        else ""
    )
    request_bytes = (
        f"POST {FORGOT} HTTP/1.1\r\nHost: evil.example\r\n"
        "X-Forwarded-Host: evil.example\r\nForwarded: host=evil.example\r\n"
        f"{forwarded}Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body

    answer = raw_exchange(server.port, request_bytes)

    assert answer.startswith(b"HTTP/1.1 202")
    (message,) = poll(
        lambda: mailbox.to(account.email, RESET_SUBJECT), bool, "the reset email", timeout=20
    )
    link = link_in(message)
    assert link.startswith(FRONTEND_URL + "/reset-password#token=myapi_pwr_")
    assert "evil.example" not in message.as_string()


# OWASP Password Storage cheat sheet / ASVS appendix C: scrypt (N, p) minimums with r = 8,
# and argon2id (memory in KiB, iterations) minimums with p = 1.
SCRYPT_MINIMUMS = ((2**17, 1), (2**16, 2), (2**15, 3), (2**14, 5), (2**13, 10))
ARGON2ID_MINIMUMS = ((47_104, 1), (19_456, 2), (12_288, 3), (9_216, 4), (7_168, 5))


def meets_the_catalogue_minimum(stored: str) -> bool:
    """Read the cost from the stored hash itself: werkzeug's `method$salt$hash`, or PHC argon2id."""
    if stored.startswith("$argon2id$"):
        # $argon2id$v=19$m=19456,t=2,p=1$salt$hash
        params = dict(pair.split("=", 1) for pair in stored.split("$")[3].split(","))
        m, t, p = (int(params[name]) for name in ("m", "t", "p"))
        return p >= 1 and any(m >= min_m and t >= min_t for min_m, min_t in ARGON2ID_MINIMUMS)
    method = stored.split("$", 1)[0]
    name, *params = method.split(":")
    if name == "scrypt":
        n, r, p = (int(x) for x in params)
        return r >= 8 and any(n >= mn and p >= mp for mn, mp in SCRYPT_MINIMUMS)
    if name == "pbkdf2":
        return params[0] == "sha256" and int(params[1]) >= 600_000
    return False


def test_E10_stored_hash_meets_the_owasp_minimum(
    database_url: str, make_account: Callable[..., Account]
) -> None:
    olga = make_account("olga")
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            stored = connection.execute(
                text("SELECT password_hash FROM users WHERE id = :id"), {"id": olga.id}
            ).scalar_one()
    finally:
        engine.dispose()

    assert meets_the_catalogue_minimum(stored), stored.rsplit("$", 2)[0]
    assert olga.password not in stored


@pytest.mark.parametrize(
    ("stored", "meets"),
    [
        ("scrypt:32768:8:3$salt$hash", True),
        ("scrypt:32768:8:1$salt$hash", False),
        ("pbkdf2:sha256:600000$salt$hash", True),
        ("pbkdf2:sha256:1000$salt$hash", False),
        ("$argon2id$v=19$m=19456,t=2,p=1$salt$hash", True),
        ("$argon2id$v=19$m=19456,t=1,p=1$salt$hash", False),
        ("$argon2i$v=19$m=65536,t=3,p=4$salt$hash", False),
    ],
)
def test_E10_the_minimum_check_reads_the_cost_of_each_format(stored: str, meets: bool) -> None:
    assert meets_the_catalogue_minimum(stored) is meets


@pytest.mark.parametrize(
    ("username", "password"),
    [("admin", "admin"), ("admin", "password"), ("root", "root"), ("administrator", "admin")],
)
def test_E11_no_default_accounts(live: Server, username: str, password: str) -> None:
    assert attempt(live.as_client(), username, password).status == 401
