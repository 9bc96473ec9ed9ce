"""Catalogue group G: input, parsing and resource consumption."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.security.expect import assert_generic_problem
from tests.security.live import Client

NOTES = "/api/v1/notes"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None]
)
def test_G1_json_body_without_a_json_content_type_is_415(
    client: Client, alice_tokens: dict[str, Any], content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}

    reply = client.post(
        NOTES, body=json.dumps({"title": "x"}), headers=headers, token=alice_tokens["access_token"]
    )

    assert_generic_problem(reply, 415)


def test_G1_login_as_a_simple_cross_site_form_post_is_415(client: Client) -> None:
    reply = client.post(
        "/auth/login",
        body="username=alice&password=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert_generic_problem(reply, 415)


@pytest.mark.parametrize("accept", ["application/xml", "text/html", "image/png"])
def test_G2_unacceptable_accept_never_changes_the_media_type(
    client: Client, alice_tokens: dict[str, Any], accept: str
) -> None:
    ok = client.get("/auth/me", headers={"Accept": accept}, token=alice_tokens["access_token"])
    error = client.get("/auth/me", headers={"Accept": accept})

    assert ok.status in (200, 406) and ok.content_type in (
        "application/json",
        "application/problem+json",
    )
    assert error.content_type == "application/problem+json"


@pytest.mark.parametrize(
    "body",
    [
        '{"title": "x"',
        '["title", "x"]',
        "[" * 10_000 + "]" * 10_000,
        '{"t":' * 10_000 + "1" + "}" * 10_000,  # 60 KB: just under the body limit
        '{"title": NaN}',
        '{"title": Infinity}',
        '{"title": "a", "title": 1}',
        "\xff\xfe{}",
        "",
        "null",
        '"just a string"',
    ],
    ids=[
        "truncated",
        "top-level-array",
        "deep-array",
        "deep-object",
        "nan",
        "infinity",
        "duplicate-keys",
        "not-utf8",
        "empty",
        "null",
        "string",
    ],
)
def test_G3_malformed_json_is_a_generic_4xx(
    client: Client, alice_tokens: dict[str, Any], body: str
) -> None:
    reply = client.post(
        NOTES,
        body=body.encode("latin-1") if body.startswith("\xff") else body,
        headers={"Content-Type": "application/json"},
        token=alice_tokens["access_token"],
    )

    assert reply.status in (400, 422), reply.text[:300]
    assert_generic_problem(reply, reply.status)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/register", {"username": ["a"], "email": ["a@b.c"], "password": {"x": 1}}),
        ("/auth/register", {"username": "ok-name", "email": "a@b.c\x00", "password": "p" * 20}),
        ("/auth/login", {"username": True, "password": 1e309}),
        ("/auth/login", {"username": "a\x00b", "password": "\x07\x1b"}),
        ("/api/v1/notes", {"title": 1, "body": ["x"]}),
        ("/api/v1/notes", {"title": "1e309", "id": True}),
        ("/api/v1/notes", {"title": "x\x00y" * 100, "body": None}),
    ],
    ids=[
        "arrays",
        "nul-email",
        "bool-and-huge-float",
        "control-chars",
        "numbers",
        "id-true",
        "nul",
    ],
)
def test_G4_type_confusion_is_a_per_field_4xx(
    client: Client, alice_tokens: dict[str, Any], path: str, body: dict[str, Any]
) -> None:
    reply = client.post(path, json_body=body, token=alice_tokens["access_token"])

    assert reply.status in (400, 401, 422), reply.text
    if reply.status == 422:
        assert assert_generic_problem(reply, 422)["errors"]


def test_G5_a_10_mb_body_is_413(client: Client, alice_tokens: dict[str, Any]) -> None:
    body = json.dumps({"title": "x", "body": "y" * (10 * 1024 * 1024)})

    reply = client.post(
        NOTES,
        body=body,
        headers={"Content-Type": "application/json"},
        token=alice_tokens["access_token"],
        timeout=30,
    )

    assert_generic_problem(reply, 413)


def test_G6_oversized_page_size_is_capped(client: Client, alice_tokens: dict[str, Any]) -> None:
    reply = client.get(f"{NOTES}?per_page=1000000", token=alice_tokens["access_token"])

    assert reply.status == 200
    assert reply.json["per_page"] == 100


@pytest.mark.parametrize(
    "query",
    ["page=999999999", "page=0", "page=-1", "per_page=0", "offset=-1", "limit=1000000", "page=1e9"],
)
def test_G6_out_of_range_paging_is_refused(
    client: Client, alice_tokens: dict[str, Any], query: str
) -> None:
    reply = client.get(f"{NOTES}?{query}", token=alice_tokens["access_token"])

    assert reply.status in (400, 422), reply.text
    assert_generic_problem(reply, reply.status)


#: How long the pg_sleep probe would hold a request whose input reached SQL as code.
INJECTED_DELAY = 10
SQLI = [
    "' OR 1=1--",
    f"name;select pg_sleep({INJECTED_DELAY})",
    "(select 1)",
    "1; DROP TABLE users--",
]
#: For the pg_sleep probe the timing is the evidence. A refusal takes milliseconds, plus one
#: password hash for a login (well under a second even on a loaded 2-core machine); an
#: injected sleep would take INJECTED_DELAY seconds. The bound sits far from both.
INJECTION_BOUND = INJECTED_DELAY / 2


@pytest.mark.parametrize("probe", SQLI)
def test_G7_sql_injection_probes_are_refused_quickly(
    client: Client, alice_tokens: dict[str, Any], probe: str
) -> None:
    from urllib.parse import quote

    token = alice_tokens["access_token"]
    replies = [
        client.get(f"{NOTES}/{quote(probe)}", token=token),
        client.get(f"{NOTES}?page={quote(probe)}", token=token),
        client.get(f"{NOTES}?sort={quote(probe)}", token=token),
        client.post("/auth/login", json_body={"username": probe, "password": probe}),
    ]

    for reply in replies:
        assert reply.status in (400, 401, 404, 422), reply.text
        assert reply.seconds < INJECTION_BOUND
        assert "SQL" not in reply.text and "syntax" not in reply.text.lower()


#: The timing is the evidence here: no answer tells whether a validator backtracked. A refusal
#: takes milliseconds; catastrophic backtracking on 50,000 characters never ends, and even a
#: merely quadratic pattern (`re.search(r"a+$", ...)`) spends about 5 s on them on 2 cores.
REDOS_BOUND = 3.0


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/auth/register", "username"),
        ("/auth/register", "email"),
        ("/auth/login", "username"),
    ],
)
def test_G8_redos_strings_are_refused_fast(
    client: Client, alice_tokens: dict[str, Any], path: str, field: str
) -> None:
    evil = "a" * 50_000 + "!"
    body = {"username": "ok-name", "email": "ok@example.com", "password": "a fine passphrase"}
    body[field] = evil if field != "email" else "a" * 50_000 + "@" + "a." * 3000 + "!"

    reply = client.post(path, json_body=body)

    assert reply.status in (400, 401, 413, 422), reply.text[:300]
    assert reply.seconds < REDOS_BOUND
