"""POST /auth/register: a new `user` account, never echoing a secret."""

from __future__ import annotations

import string
import unicodedata
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError
from sqlalchemy import func, select

from myapi.auth.schemas import RegisterSchema
from myapi.extensions import db
from myapi.models import User
from myapi.services.accounts import normalize_identifier
from tests.auth.observe import VALIDATION_ERROR, post_login
from tests.helpers.http import PASSWORD, assert_problem
from tests.helpers.identifiers import (
    FULLWIDTH_ALICE,
    KELVIN_SIGN,
    RIGHT_TO_LEFT_OVERRIDE,
    emails,
    published_rule,
    usernames,
)

USER_FIELDS = {"id", "username", "email", "role", "is_active", "email_verified", "created_at"}


def register(client: FlaskClient, **fields: Any) -> Any:
    body = {"username": "alice", "email": "alice@example.com", "password": PASSWORD} | fields
    return client.post("/auth/register", json=body)


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_register_creates_a_user_account_and_returns_it_without_any_hash(
    app: Flask, client: FlaskClient
) -> None:
    response = register(client)

    assert response.status_code == 201
    body = response.json
    assert set(body) == USER_FIELDS
    assert body["username"] == "alice"
    assert body["email"] == "alice@example.com"
    assert body["role"] == "user"
    assert body["is_active"] is True
    text = response.get_data(as_text=True)
    assert "hash" not in text
    assert PASSWORD not in text
    user = db.session.get(User, body["id"])
    assert user.password_hash.startswith(app.config["PASSWORD_HASH_METHOD"] + "$")
    assert PASSWORD not in user.password_hash


def test_registered_account_can_log_in(client: FlaskClient) -> None:
    register(client)

    response = post_login(client, "alice")

    assert response.status_code == 200
    assert response.json["access_token"]


def test_register_lowercases_username_and_email(client: FlaskClient) -> None:
    response = register(client, username="Alice.Smith", email="Alice.Smith@Example.COM")

    assert response.status_code == 201
    assert response.json["username"] == "alice.smith"
    assert response.json["email"] == "alice.smith@example.com"
    assert post_login(client, "ALICE.SMITH").status_code == 200


@pytest.mark.parametrize("username", ["ALICE", "Alice", "alice"])
def test_register_refuses_a_username_taken_in_any_case(client: FlaskClient, username: str) -> None:
    register(client)

    response = register(client, username=username, email="other@example.com")

    body = assert_problem(response, 409)
    assert "already exists" in body["detail"]
    assert body["errors"] == {"username": ["This username is taken."]}
    assert user_count() == 1


@pytest.mark.parametrize("email", ["alice@example.com", "ALICE@Example.com"])
def test_register_refuses_a_taken_email(client: FlaskClient, email: str) -> None:
    register(client)

    response = register(client, username="alice2", email=email)

    body = assert_problem(response, 409)
    assert body["errors"] == {"email": ["This email is taken."]}
    assert user_count() == 1


def test_a_conflict_names_both_fields_when_both_are_taken(client: FlaskClient) -> None:
    register(client)
    register(client, username="bob", email="bob@example.com")

    response = register(client, username="alice", email="bob@example.com")

    body = assert_problem(response, 409)
    assert body["errors"] == {
        "username": ["This username is taken."],
        "email": ["This email is taken."],
    }


@pytest.mark.parametrize("username", ["abc", "a" * 32, "a_b.c-9", "ABC"])
def test_register_accepts_usernames_of_3_to_32_allowed_characters(
    client: FlaskClient, username: str
) -> None:
    response = register(client, username=username)

    assert response.status_code == 201
    assert response.json["username"] == username.lower()


@pytest.mark.parametrize("username", ["ab", "a" * 33, "al ice", "alice!", "al@ce", "ålice", ""])
def test_register_refuses_malformed_usernames(client: FlaskClient, username: str) -> None:
    response = register(client, username=username)

    body = assert_problem(response, 422)
    assert body["type"] == VALIDATION_ERROR
    assert set(body["errors"]) == {"username"}
    assert user_count() == 0


@pytest.mark.parametrize(
    "password",
    ["x7!kQ2#mZp9v", "ünïcödé with spaces", "k" * 64, "p" * 128],
    ids=["12-chars", "unicode-spaces", "64-chars", "128-chars"],
)
def test_register_accepts_passwords_of_12_to_128_characters(
    client: FlaskClient, password: str
) -> None:
    response = register(client, password=password)

    assert response.status_code == 201
    assert post_login(client, "alice", password).status_code == 200


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("x7!kQ2#mZp9", "at least 12"),
        ("p" * 129, "at most 128"),
        ("p" * 1000, "at most 128"),
        ("qwerty123456", "commonly used"),
        ("QWERTY123456", "commonly used"),
        ("1Qaz2Wsx3Edc", "commonly used"),
    ],
    ids=["11-chars", "129-chars", "1000-chars", "common", "common-upper", "common-mixed"],
)
def test_register_refuses_short_long_and_common_passwords(
    client: FlaskClient, password: str, message: str
) -> None:
    response = register(client, password=password)

    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"password"}
    assert message in " ".join(body["errors"]["password"])
    assert user_count() == 0


def test_register_refuses_an_invalid_email(client: FlaskClient) -> None:
    response = register(client, email="not-an-email")

    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"email"}
    assert user_count() == 0


def test_register_refuses_missing_fields(client: FlaskClient) -> None:
    response = client.post("/auth/register", json={})

    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"username", "email", "password"}


def test_register_refuses_unknown_fields_such_as_a_role(client: FlaskClient) -> None:
    response = register(client, role="admin", is_active=True)

    body = assert_problem(response, 422)
    assert {"role", "is_active"} <= set(body["errors"])
    assert user_count() == 0


# --- usernames and emails: one normal form, no hidden characters -------------


@pytest.mark.parametrize(
    "username",
    [
        FULLWIDTH_ALICE,
        KELVIN_SIGN + "elvin",
        "alice\n",
        "al" + RIGHT_TO_LEFT_OVERRIDE + "ice",
        "alice\u200f",
        "\u200balice",
    ],
    ids=["fullwidth", "kelvin-sign", "final-newline", "rlo", "rlm", "zero-width-space"],
)
def test_register_refuses_look_alike_and_hidden_characters_in_a_username(
    client: FlaskClient, username: str
) -> None:
    response = register(client, username=username)

    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"username"}
    assert user_count() == 0


@pytest.mark.parametrize(
    "email",
    [
        "al" + RIGHT_TO_LEFT_OVERRIDE + "ice@example.com",
        "alice@exa" + RIGHT_TO_LEFT_OVERRIDE + "mple.com",
        "\u200ealice@example.com",
        "alice\n@example.com",
        "alice@example.com\n",
        "alice\x07@example.com",
        "al ice@example.com",
        "x@localhost",
        "alice@example",
        "alice@example.com.",
        "alice@.example.com",
        FULLWIDTH_ALICE + "@example.com",
        "k" + KELVIN_SIGN + "@example.com",
        "\u00e5lice@example.com",
    ],
    ids=[
        "rlo-local",
        "rlo-domain",
        "lrm",
        "newline-inside",
        "final-newline",
        "bell",
        "space",
        "localhost",
        "undotted-domain",
        "trailing-dot",
        "leading-dot",
        "fullwidth",
        "kelvin-sign",
        "non-ascii",
    ],
)
def test_register_refuses_emails_that_are_not_ascii_or_lack_a_dotted_domain(
    client: FlaskClient, email: str
) -> None:
    response = register(client, email=email)

    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"email"}
    assert user_count() == 0


@pytest.mark.parametrize(
    "identifier",
    [FULLWIDTH_ALICE, "ALICE", FULLWIDTH_ALICE.upper() + "@EXAMPLE.COM", " alice@example.com "],
    ids=["fullwidth-name", "upper-case-name", "fullwidth-email", "padded-email"],
)
def test_login_finds_the_account_however_its_name_or_email_is_written(
    client: FlaskClient, identifier: str
) -> None:
    register(client)

    assert post_login(client, identifier).status_code == 200


# Properties of the one normal form (`normalize_identifier`) and of the published rules.

PROPERTIES = settings(
    max_examples=300,
    deadline=None,
    database=None,  # nothing written into the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@PROPERTIES
@given(text=st.text())
def test_the_normal_form_is_stable_once_reached(text: str) -> None:
    normal = normalize_identifier(text)

    assert normalize_identifier(normal) == normal


@PROPERTIES
@given(text=st.text())
def test_the_normal_form_ignores_case_and_compatibility_forms(text: str) -> None:
    normal = normalize_identifier(text)

    assert normalize_identifier(text.casefold()) == normal
    assert normalize_identifier(unicodedata.normalize("NFKC", text)) == normal


@PROPERTIES
@given(name=st.text(alphabet=string.ascii_letters + string.digits + "_.-", min_size=1))
def test_ascii_names_in_either_case_have_one_lower_case_form(name: str) -> None:
    assert normalize_identifier(name.swapcase()) == normalize_identifier(name) == name.lower()


def accepted(field: str, value: str) -> dict[str, Any] | None:
    """What RegisterSchema makes of `value` in `field`; None when it refuses it."""
    body = {"username": "alice", "email": "alice@example.com", "password": PASSWORD}
    try:
        return RegisterSchema().load(body | {field: value})
    except ValidationError:
        return None


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    return client.get("/openapi.json").json


@PROPERTIES
@given(username=usernames | st.text(max_size=40))
def test_a_username_is_accepted_exactly_when_the_document_allows_it(
    document: dict[str, Any], username: str
) -> None:
    data = accepted("username", username)

    assert (data is not None) == published_rule(document, "Register", "username").is_valid(username)
    if data is not None:
        assert data["username"] == username.lower()


@PROPERTIES
@given(email=emails)
def test_an_email_is_accepted_exactly_when_the_document_allows_it(
    document: dict[str, Any], email: str
) -> None:
    data = accepted("email", email)

    assert (data is not None) == published_rule(document, "Register", "email").is_valid(email)
    if data is not None:
        assert data["email"] == normalize_identifier(email) == email.lower()
        assert "." in email.rsplit("@", 1)[1]
