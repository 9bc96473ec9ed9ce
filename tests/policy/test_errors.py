"""Bad input and HTTP errors (catalogue groups G and H): each is a generic problem+json answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from myapi import config, create_app
from myapi.models import User
from tests.helpers.http import PASSWORD, assert_problem
from tests.helpers.logs import LogLines

LOGIN = "/auth/login"
REGISTER = "/auth/register"
SECRET_TEXT = "db password is hunter2 at /srv/myapi/settings.py"


def credentials(**extra: Any) -> dict[str, Any]:
    return {"username": "alice", "password": PASSWORD, **extra}


# --- JSON parsing ---


@pytest.mark.parametrize("path", [LOGIN, REGISTER])
def test_malformed_json_is_a_generic_400(client: FlaskClient, path: str) -> None:
    response = client.post(path, data='{"username": "alice",', content_type="application/json")

    body = assert_problem(response, 400)
    assert "Expecting" not in body["detail"]  # no json.JSONDecodeError text
    assert "line 1 column" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", [LOGIN, REGISTER])
def test_deeply_nested_json_within_the_size_limit_is_a_400(client: FlaskClient, path: str) -> None:
    body = "[" * 60_000  # under MAX_CONTENT_LENGTH, so only the nesting can be refused

    response = client.post(path, data=body, content_type="application/json")

    assert_problem(response, 400)


@pytest.mark.parametrize("path", [LOGIN, REGISTER])
def test_deeply_nested_json_is_a_400_when_the_size_limit_allows_it(
    app: Flask, client: FlaskClient, path: str
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024

    response = client.post(path, data="[" * 100_000, content_type="application/json")

    assert_problem(response, 400)


def test_deeply_nested_json_over_the_size_limit_is_a_413(client: FlaskClient) -> None:
    response = client.post(LOGIN, data="[" * 100_000, content_type="application/json")

    assert_problem(response, 413)


@pytest.mark.parametrize("payload", ["[]", '"alice"', "42", "null"])
def test_a_body_that_is_not_an_object_is_refused_without_a_500(
    client: FlaskClient, payload: str
) -> None:
    response = client.post(REGISTER, data=payload, content_type="application/json")

    assert response.status_code in {400, 422}
    assert_problem(response, response.status_code)


def test_a_wrongly_typed_field_is_a_422_naming_it(client: FlaskClient) -> None:
    response = client.post(
        REGISTER,
        json={"username": ["alice"], "email": "a@example.com", "password": PASSWORD},
    )

    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"username"}


# --- Content type and size ---


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
    ids=["text", "form", "multipart", "missing"],
)
def test_a_body_that_is_not_declared_json_is_a_415(
    client: FlaskClient, alice: User, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    body = '{"username": "alice", "password": "correct horse battery staple"}'

    response = client.post(LOGIN, data=body, headers=headers)

    problem = assert_problem(response, 415)
    assert "application/json" in problem["detail"]
    assert "access_token" not in response.get_data(as_text=True)


def test_a_form_post_cannot_change_state_with_a_valid_token(
    client: FlaskClient, alice_headers: dict[str, str]
) -> None:
    # A cross-site "simple request" carries a form body; it must not reach the view.
    response = client.post("/auth/logout", headers=alice_headers, data={"x": "1"})

    assert_problem(response, 415)
    assert client.get("/auth/me", headers=alice_headers).status_code == 200


def test_a_json_body_over_the_size_limit_is_a_413(client: FlaskClient) -> None:
    big = {"username": "alice", "password": "x" * (64 * 1024)}

    response = client.post(LOGIN, json=big)

    assert_problem(response, 413)


def test_the_size_limit_follows_the_configuration(app: Flask, client: FlaskClient) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1024

    response = client.post(LOGIN, json={"username": "alice", "password": "x" * 2000})

    assert_problem(response, 413)


def test_a_body_just_under_the_size_limit_is_parsed(client: FlaskClient) -> None:
    payload = '{"username": "alice", "password": "' + "x" * 60_000 + '"}'

    response = client.post(LOGIN, data=payload, content_type="application/json")

    # Parsed and validated (the password is over 128 characters), not refused for size.
    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"password"}


# --- Validation ---


def test_unknown_fields_are_a_422_naming_each_one(client: FlaskClient) -> None:
    response = client.post(
        REGISTER,
        json={
            "username": "mallory",
            "email": "mallory@example.com",
            "password": PASSWORD,
            "role": "admin",
            "is_active": True,
            "id": 1,
        },
    )

    body = assert_problem(response, 422)
    assert body["type"] == "urn:myapi:problem:validation-error"
    assert set(body["errors"]) == {"role", "is_active", "id"}
    assert all(messages for messages in body["errors"].values())


def test_a_refused_registration_with_unknown_fields_creates_no_account(
    client: FlaskClient,
) -> None:
    client.post(
        REGISTER,
        json={
            "username": "mallory",
            "email": "mallory@example.com",
            "password": PASSWORD,
            "role": "admin",
        },
    )

    response = client.post(LOGIN, json={"username": "mallory", "password": PASSWORD})

    assert_problem(response, 401)


def test_unknown_fields_on_an_admin_update_change_nothing(
    client: FlaskClient, admin_headers: dict[str, str], alice: User
) -> None:
    response = client.patch(
        f"/api/v1/admin/users/{alice.id}",
        headers=admin_headers,
        json={"role": "admin", "password_hash": "x", "email": "evil@example.com"},
    )

    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"password_hash", "email"}
    user = client.get(f"/api/v1/admin/users/{alice.id}", headers=admin_headers).json
    assert (user["role"], user["email"]) == ("user", "alice@example.com")


# --- Routing ---


@pytest.mark.parametrize(
    "path", ["/nope", "/console", "/api/v1/notes/0", "/api/v1/notes/99999999999"]
)
def test_an_unknown_route_is_a_404(
    client: FlaskClient, alice_headers: dict[str, str], path: str
) -> None:
    response = client.get(path, headers=alice_headers)

    assert_problem(response, 404)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/healthz", {"GET", "HEAD", "OPTIONS"}),
        ("DELETE", "/auth/me", {"GET", "HEAD", "OPTIONS"}),
        ("GET", "/auth/login", {"POST", "OPTIONS"}),
    ],
)
def test_a_wrong_method_is_a_405_listing_the_allowed_ones(
    client: FlaskClient, method: str, path: str, allowed: set[str]
) -> None:
    response = client.open(path, method=method)

    assert_problem(response, 405)
    assert {m.strip() for m in response.headers["Allow"].split(",")} == allowed


@pytest.mark.parametrize("method", ["TRACE", "FOO"])
def test_trace_and_unknown_methods_are_a_405(client: FlaskClient, method: str) -> None:
    response = client.open("/healthz", method=method)

    assert_problem(response, 405)
    assert method not in response.headers["Allow"]


# --- Unhandled exceptions ---


@pytest.fixture
def failing_app() -> Iterator[Flask]:
    """A fresh app with one route that raises; registered before its first request."""
    app = create_app(config.Testing())

    def explode() -> None:
        raise RuntimeError(SECRET_TEXT)

    app.add_url_rule("/explode", "explode", explode, methods=["GET", "POST"])
    yield app


def test_an_unhandled_exception_is_a_generic_500(failing_app: Flask) -> None:
    response = failing_app.test_client().get("/explode")

    body = assert_problem(response, 500)
    assert body == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "An unexpected error occurred; it has been logged.",
    }
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    assert "hunter2" not in text
    assert "RuntimeError" not in text


def test_an_unhandled_exception_keeps_the_security_headers(failing_app: Flask) -> None:
    response = failing_app.test_client().post("/explode", json={})

    assert response.status_code == 500
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Request-ID"]


# --- Strings that are not Unicode text (a lone surrogate escape) ---


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (LOGIN, '{"username": "\\ud800", "password": "x"}', "username"),
        (LOGIN, '{"username": "alice", "password": "pass\\udfffword"}', "password"),
        (REGISTER, '{"username": "alice", "extra": [{"deep": "\\ud83d"}]}', "extra.0.deep"),
        (REGISTER, '{"\\ud800": "alice"}', "(member name)"),
        (REGISTER, '"\\udbff"', "(body)"),
    ],
)
def test_a_lone_surrogate_in_any_json_string_is_a_400_naming_where_it_is(
    client: FlaskClient, path: str, body: str, field: str
) -> None:
    response = client.post(path, data=body, content_type="application/json")

    problem = assert_problem(response, 400)
    assert f"`{field}`" in problem["detail"]
    response.get_data(as_text=True).encode("utf-8")  # the answer itself is valid text


def test_lone_surrogates_are_counted_by_the_login_limit(app: Flask, client: FlaskClient) -> None:
    app.config["LOGIN_LIMIT_PER_IP"] = "3 per minute"
    body = '{"username": "\\ud800", "password": "x"}'

    statuses = [
        client.post(LOGIN, data=body, content_type="application/json").status_code for _ in range(4)
    ]

    assert statuses == [400, 400, 400, 429]


def test_a_lone_surrogate_is_logged_as_one_short_request_line(
    logs: LogLines, client: FlaskClient
) -> None:
    client.post(LOGIN, data='{"username": "\\ud800"}', content_type="application/json")

    assert [entry["status"] for entry in logs.requests()] == [400]
    assert len(logs.lines) == 1
    assert len(logs.lines[0]) < 400
    assert "Traceback" not in logs.text()
