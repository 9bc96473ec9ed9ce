"""Headers every response carries, whatever its status, and the request id (catalogue H3)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.helpers.http import PASSWORD

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

Call = Callable[[FlaskClient, dict[str, str]], Any]

# In this order: the logout comes last because it revokes the token the others use.
REQUESTS: dict[str, Call] = {
    "200 health": lambda c, h: c.get("/healthz"),
    "200 authenticated": lambda c, h: c.get("/auth/me", headers=h),
    "200 login": lambda c, h: c.post(
        "/auth/login", json={"username": "alice", "password": PASSWORD}
    ),
    "400 bad json": lambda c, h: c.post("/auth/login", data="{", content_type="application/json"),
    "401 no credentials": lambda c, h: c.get("/auth/me"),
    "401 invalid token": lambda c, h: c.get("/auth/me", headers={"Authorization": "Bearer x"}),
    "403 scope": lambda c, h: c.get("/api/v1/admin/users", headers=h),
    "404 unknown route": lambda c, h: c.get("/nope"),
    "405 wrong method": lambda c, h: c.delete("/healthz"),
    "413 too large": lambda c, h: c.post("/auth/login", json={"password": "x" * 70_000}),
    "415 not json": lambda c, h: c.post("/auth/login", data="x", content_type="text/plain"),
    "422 validation": lambda c, h: c.post("/auth/login", json={"user": "alice"}),
    "options": lambda c, h: c.options("/auth/me"),
    "head": lambda c, h: c.head("/healthz"),
    "204 logout": lambda c, h: c.post("/auth/logout", headers=h),
}


def missing_security_headers(response: Any) -> dict[str, str | None]:
    return {
        name: response.headers.get(name)
        for name, value in SECURITY_HEADERS.items()
        if response.headers.get(name) != value
    }


def test_every_response_carries_the_security_headers(
    client: FlaskClient, alice_headers: dict[str, str]
) -> None:
    responses = {case: call(client, alice_headers) for case, call in REQUESTS.items()}

    statuses = {case: r.status_code for case, r in responses.items() if case[0].isdigit()}
    assert statuses == {case: int(case[:3]) for case in statuses}
    wrong = {case: found for case, r in responses.items() if (found := missing_security_headers(r))}
    assert wrong == {}


def test_a_rate_limited_response_carries_the_security_headers(
    app: Any, client: FlaskClient, alice: Any
) -> None:
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "1 per minute"
    client.post("/auth/login", json={"username": "alice", "password": "wrong password!"})

    response = client.post("/auth/login", json={"username": "alice", "password": "wrong"})

    assert response.status_code == 429
    assert missing_security_headers(response) == {}


def test_token_responses_are_never_cached(
    client: FlaskClient, alice_tokens: dict[str, Any]
) -> None:
    login = client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    refreshed = client.post(
        "/auth/refresh", headers={"Authorization": f"Bearer {alice_tokens['refresh_token']}"}
    )

    for response in (login, refreshed):
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Pragma"] == "no-cache"


def test_json_answers_declare_their_media_type(
    client: FlaskClient, alice_headers: dict[str, str]
) -> None:
    ok = client.get("/auth/me", headers=alice_headers)
    problem = client.get("/auth/me")

    assert ok.mimetype == "application/json"
    assert problem.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    "request_id",
    ["abc-123", "0f8fad5b-d9cb-469f-a165-70867728950e", "trace.id:span_1", "x" * 128],
)
def test_a_well_formed_request_id_is_echoed(client: FlaskClient, request_id: str) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": request_id})

    assert response.headers["X-Request-ID"] == request_id


@pytest.mark.parametrize(
    "request_id",
    ["", "has space", "x" * 129, "<script>alert(1)</script>", "a\tb", "id;rm -rf /", "é"],
    ids=["empty", "space", "too-long", "html", "tab", "shell", "non-ascii"],
)
def test_a_malformed_request_id_is_replaced_by_a_generated_one(
    client: FlaskClient, request_id: str
) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": request_id})

    generated = response.headers["X-Request-ID"]
    assert generated != request_id
    assert re.fullmatch(r"[0-9a-f]{32}", generated)


def test_a_request_id_is_generated_when_none_is_sent(client: FlaskClient) -> None:
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]

    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert re.fullmatch(r"[0-9a-f]{32}", second)
    assert first != second


def test_an_error_response_carries_the_request_id(client: FlaskClient) -> None:
    response = client.get("/auth/me", headers={"X-Request-ID": "err-42"})

    assert response.status_code == 401
    assert response.headers["X-Request-ID"] == "err-42"
