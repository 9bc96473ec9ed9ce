"""Property-based: arbitrary JSON sent to every input schema never yields a 500, and
registration accepts exactly the usernames and emails the OpenAPI document allows.

Hypothesis generates the bodies (and query strings); they go over real HTTP to the
`fuzz` server, which is the production configuration with rate limits off.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.identifiers import emails, published_rule, usernames
from tests.security.live import Client, Server
from tests.security.suite import Account, login

EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    database=None,  # nothing written into the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=300)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=4)
    ),
    max_leaves=12,
)


def objects_with(*fields: str) -> st.SearchStrategy[Any]:
    """Arbitrary JSON, and objects whose known fields (and some unknown ones) hold anything."""
    known = st.fixed_dictionaries({}, optional={name: json_values for name in fields})
    extra = st.dictionaries(st.text(max_size=20), json_values, max_size=3)
    return json_values | known | st.builds(lambda a, b: a | b, known, extra)


def assert_handled(reply: Any) -> None:
    assert reply.status < 500, reply.text[:500]
    assert reply.content_type in ("application/json", "application/problem+json", "")


@pytest.fixture(scope="module")
def fuzz_client(fuzz: Server) -> Client:
    return fuzz.as_client()


@pytest.fixture(scope="module")
def fuzz_user(fuzz_client: Client, make_account: Callable[..., Account]) -> dict[str, Any]:
    account = make_account("prop")
    tokens = login(fuzz_client, account.username, account.password)
    note = fuzz_client.post("/api/v1/notes", json_body={"title": "t"}, token=tokens["access_token"])
    return {"token": tokens["access_token"], "note": note.json["id"], "id": account.id}


@pytest.fixture(scope="module")
def fuzz_admin(fuzz_client: Client, admin_account: Account) -> dict[str, Any]:
    tokens = login(fuzz_client, admin_account.username, admin_account.password)
    return {"token": tokens["access_token"], "id": admin_account.id}


@EXAMPLES
@given(body=objects_with("username", "email", "password"))
def test_register_never_fails_on_arbitrary_json(fuzz_client: Client, body: Any) -> None:
    assert_handled(fuzz_client.post("/auth/register", json_body=body))


@pytest.fixture(scope="module")
def register_rules(fuzz_client: Client) -> dict[str, Any]:
    document = fuzz_client.get("/openapi.json").json
    return {field: published_rule(document, "Register", field) for field in ("username", "email")}


@EXAMPLES
@given(username=usernames, email=emails)
def test_registration_accepts_exactly_the_names_and_emails_the_document_allows(
    fuzz_client: Client, register_rules: dict[str, Any], username: str, email: str
) -> None:
    body = {"username": username, "email": email, "password": "a registration passphrase"}

    reply = fuzz_client.post("/auth/register", json_body=body)

    allowed = all(register_rules[field].is_valid(body[field]) for field in ("username", "email"))
    assert reply.status in ((201, 409) if allowed else (422,)), reply.text[:500]


@EXAMPLES
@given(body=objects_with("username", "password", "scope"))
def test_login_never_fails_on_arbitrary_json(fuzz_client: Client, body: Any) -> None:
    assert_handled(fuzz_client.post("/auth/login", json_body=body))


@EXAMPLES
@given(body=objects_with("current_password", "new_password"))
def test_password_change_never_fails_on_arbitrary_json(
    fuzz_client: Client, fuzz_user: dict[str, Any], body: Any
) -> None:
    assert_handled(fuzz_client.put("/auth/password", json_body=body, token=fuzz_user["token"]))


@EXAMPLES
@given(body=objects_with("title", "body"))
def test_note_creation_never_fails_on_arbitrary_json(
    fuzz_client: Client, fuzz_user: dict[str, Any], body: Any
) -> None:
    assert_handled(fuzz_client.post("/api/v1/notes", json_body=body, token=fuzz_user["token"]))


@EXAMPLES
@given(body=objects_with("title", "body"))
def test_note_update_never_fails_on_arbitrary_json(
    fuzz_client: Client, fuzz_user: dict[str, Any], body: Any
) -> None:
    path = f"/api/v1/notes/{fuzz_user['note']}"
    assert_handled(fuzz_client.patch(path, json_body=body, token=fuzz_user["token"]))


@EXAMPLES
@given(body=objects_with("role", "is_active"))
def test_admin_user_update_never_fails_on_arbitrary_json(
    fuzz_client: Client, fuzz_admin: dict[str, Any], body: Any
) -> None:
    # The admin's own record: the body is parsed and validated, then refused (409).
    path = f"/api/v1/admin/users/{fuzz_admin['id']}"
    assert_handled(fuzz_client.patch(path, json_body=body, token=fuzz_admin["token"]))


@EXAMPLES
@given(
    query=st.dictionaries(
        st.sampled_from(["page", "per_page", "offset", "sort"]) | st.text(max_size=10),
        st.text(max_size=30) | st.integers().map(str),
        max_size=4,
    )
)
def test_pagination_never_fails_on_arbitrary_query_strings(
    fuzz_client: Client, fuzz_user: dict[str, Any], query: dict[str, str]
) -> None:
    from urllib.parse import urlencode

    reply = fuzz_client.get(f"/api/v1/notes?{urlencode(query)}", token=fuzz_user["token"])

    assert_handled(reply)


@EXAMPLES
@given(raw=st.binary(max_size=2000))
def test_arbitrary_bytes_labelled_json_never_fail(
    fuzz_client: Client, fuzz_user: dict[str, Any], raw: bytes
) -> None:
    reply = fuzz_client.post(
        "/api/v1/notes",
        body=raw,
        headers={"Content-Type": "application/json"},
        token=fuzz_user["token"],
    )

    assert_handled(reply)
    json.dumps(reply.json)
