"""The OpenAPI document: every path, and the bearer scheme on exactly the protected operations."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from myapi import create_app
from myapi.config import Testing
from myapi.security.scopes import CLIENT_SCOPES, USER_SCOPES
from tests.helpers.identifiers import published_rule

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
BEARER = [{"bearerAuth": []}]

PROTECTED_PATHS = {
    "/auth/refresh",
    "/auth/logout",
    "/auth/logout-all",
    "/auth/me",
    "/auth/token-info",
    "/auth/password",
    "/auth/email",
    "/auth/email/resend",
    "/auth/sessions",
    "/auth/sessions/{session_id}",
    "/api/v1/notes",
    "/api/v1/notes/{note_id}",
    "/api/v1/admin/users",
    "/api/v1/admin/users/{user_id}",
}
PUBLIC_PATHS = {
    "/auth/register",
    "/auth/login",
    "/auth/password/forgot",
    "/auth/password/reset",
    "/auth/email/verify",
    "/healthz",
    "/readyz",
}


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.json


def operations(document: dict[str, Any], path: str) -> dict[str, dict[str, Any]]:
    return {
        method: operation
        for method, operation in document["paths"][path].items()
        if method in HTTP_METHODS
    }


def test_the_document_is_openapi_3_without_a_token(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "myapi"
    assert document["info"]["version"]


def test_the_document_lists_every_path(document: dict[str, Any]) -> None:
    missing = (PROTECTED_PATHS | PUBLIC_PATHS) - set(document["paths"])

    assert not missing


def test_the_bearer_scheme_is_declared_as_http_bearer(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["bearerAuth"]

    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    assert scheme.get("bearerFormat") == "JWT"


def test_there_is_no_global_security_requirement(document: dict[str, Any]) -> None:
    # Otherwise every operation without its own `security` would inherit the bearer scheme.
    assert not document.get("security")


@pytest.mark.parametrize("path", sorted(PROTECTED_PATHS))
def test_every_protected_operation_requires_the_bearer_scheme(
    document: dict[str, Any], path: str
) -> None:
    found = operations(document, path)

    assert found, f"{path} documents no operation"
    for method, operation in found.items():
        assert operation.get("security") == BEARER, f"{method.upper()} {path}"
        assert "401" in operation["responses"], f"{method.upper()} {path}"


@pytest.mark.parametrize("path", sorted(PUBLIC_PATHS))
def test_public_operations_carry_no_security_requirement(
    document: dict[str, Any], path: str
) -> None:
    found = operations(document, path)

    assert found, f"{path} documents no operation"
    for method, operation in found.items():
        assert not operation.get("security"), f"{method.upper()} {path}"


def test_the_documented_methods_match_the_routes(document: dict[str, Any]) -> None:
    methods = {path: set(operations(document, path)) for path in PROTECTED_PATHS | PUBLIC_PATHS}

    assert methods["/api/v1/notes"] == {"get", "post"}
    assert methods["/api/v1/notes/{note_id}"] == {"get", "patch", "delete"}
    assert methods["/api/v1/admin/users"] == {"get"}
    assert methods["/api/v1/admin/users/{user_id}"] == {"get", "patch"}
    assert methods["/auth/sessions/{session_id}"] == {"delete"}
    assert methods["/healthz"] == methods["/readyz"] == {"get"}


def test_scoped_operations_document_403_and_their_required_scopes(
    document: dict[str, Any],
) -> None:
    notes = operations(document, "/api/v1/notes")
    users = operations(document, "/api/v1/admin/users/{user_id}")

    assert notes["get"]["x-required-scopes"] == ["notes:read"]
    assert notes["post"]["x-required-scopes"] == ["notes:write"]
    assert users["patch"]["x-required-scopes"] == ["users:write"]
    assert all("403" in op["responses"] for op in (*notes.values(), *users.values()))


def test_403_is_documented_exactly_where_a_live_token_can_be_refused(
    document: dict[str, Any],
) -> None:
    # /auth/me refuses an OAuth client's token; any live token may ask /auth/token-info.
    me = operations(document, "/auth/me")["get"]
    token_info = operations(document, "/auth/token-info")["get"]

    assert "403" in me["responses"]
    assert "403" not in token_info["responses"]
    assert "401" in token_info["responses"]


#: What each account operation documents besides `default` (the problem answers any
#: operation can give, such as 429 and 503): clients write their error handling from these.
ACCOUNT_ANSWERS = {
    ("post", "/auth/register"): {"201", "409", "422"},
    ("post", "/auth/login"): {"200", "401", "403", "422"},
    ("post", "/auth/refresh"): {"200", "401"},
    ("post", "/auth/logout"): {"204", "401", "403"},
    ("post", "/auth/logout-all"): {"204", "401", "403"},
    ("get", "/auth/me"): {"200", "401", "403"},
    ("get", "/auth/token-info"): {"200", "401"},
    ("put", "/auth/password"): {"204", "401", "403", "422"},
    ("get", "/auth/sessions"): {"200", "401", "403"},
    ("delete", "/auth/sessions/{session_id}"): {"204", "401", "403", "404"},
    ("post", "/auth/password/forgot"): {"202", "404", "422"},
    ("post", "/auth/password/reset"): {"204", "400", "404", "422"},
    ("post", "/auth/email/verify"): {"204", "400", "404", "409", "422"},
    ("post", "/auth/email/resend"): {"202", "401", "403", "404", "409"},
    ("put", "/auth/email"): {"202", "401", "403", "404", "409", "422"},
    ("get", "/auth/grants"): {"200", "401", "403"},
    ("delete", "/auth/grants/{client_id}"): {"204", "401", "403", "404"},
    ("post", "/auth/tokens"): {"201", "401", "403", "409", "422"},
    ("get", "/auth/tokens"): {"200", "401", "403"},
    ("delete", "/auth/tokens/{token_id}"): {"204", "401", "403", "404"},
}


def test_each_account_operation_documents_exactly_its_answers(document: dict[str, Any]) -> None:
    documented = {
        (method, path): set(operation["responses"]) - {"default"}
        for path in document["paths"]
        if path.startswith("/auth/")
        for method, operation in operations(document, path).items()
    }

    assert documented == ACCOUNT_ANSWERS


def test_error_responses_are_documented_as_problem_json(document: dict[str, Any]) -> None:
    responses = document["components"]["responses"]

    for name in ("UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "UNPROCESSABLE_ENTITY"):
        content = responses[name]["content"]
        assert set(content) == {"application/problem+json"}, name
        schema = content["application/problem+json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Problem"}
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])


# --- every rule the API enforces is in the document ---------------------------


def test_the_document_publishes_this_apps_personal_token_lifetime_bound() -> None:
    app = create_app(Testing(PAT_MAX_DAYS=90))

    document = app.test_client().get("/openapi.json").json

    days = document["components"]["schemas"]["PersonalTokenCreate"]["properties"]["expires_in_days"]
    assert (days["minimum"], days["maximum"]) == (1, 90)


@pytest.mark.parametrize(
    ("schema", "known"),
    [("Login", USER_SCOPES), ("PersonalTokenCreate", USER_SCOPES), ("TokenRequest", CLIENT_SCOPES)],
)
def test_scope_fields_publish_which_scopes_are_known(
    document: dict[str, Any], schema: str, known: tuple[str, ...]
) -> None:
    rule = published_rule(document, schema, "scope")

    assert rule.is_valid(" ".join(known))
    assert rule.is_valid(f" {known[0]}  {known[-1]} ")
    for refused in ("", " ", "notes:delete", f"{known[0]}\n", f"{known[0]}\t{known[-1]}"):
        assert not rule.is_valid(refused), repr(refused)


def test_usernames_and_emails_publish_their_rules(document: dict[str, Any]) -> None:
    username = published_rule(document, "Register", "username")
    email = published_rule(document, "Register", "email")

    assert username.is_valid("Alice.Smith_9")
    assert not any(map(username.is_valid, ["al", "a" * 33, "alice\n", "al ice", "\u212aelvin"]))
    assert email.is_valid("alice@example.com")
    assert not any(map(email.is_valid, ["x@localhost", "a\u202eb@example.com", "a@b.c\n"]))
    properties = document["components"]["schemas"]["Register"]["properties"]
    assert properties["email"]["maxLength"] == 254
