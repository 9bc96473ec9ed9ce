"""JSON logs: one line per request, named audit events, and never a secret (catalogue D13)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from myapi import config, create_app
from myapi.extensions import db
from myapi.models import User
from myapi.services.accounts import register
from tests.helpers.http import PASSWORD, bearer
from tests.helpers.logs import LogLines, capture_logs

REQUEST_FIELDS = {"request_id", "method", "path", "status", "duration_ms", "user_id", "ip"}
NEW_PASSWORD = "a brand new passphrase 42"


def only(entries: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(entries) == 1, entries
    return entries[0]


# --- The request line ---


def test_each_request_writes_exactly_one_json_line(logs: LogLines, client: FlaskClient) -> None:
    responses = [
        client.get("/healthz"),
        client.get("/auth/me"),
        client.post("/auth/login", json={"username": "nobody", "password": "x"}),
        client.get("/nope"),
    ]

    entries = logs.requests()
    assert all("\n" not in line for line in logs.lines)
    assert len(entries) == len(responses)
    for entry, response in zip(entries, responses, strict=True):
        assert set(entry) >= REQUEST_FIELDS
        assert entry["request_id"] == response.headers["X-Request-ID"]
        assert entry["status"] == response.status_code
        assert isinstance(entry["duration_ms"], int | float)
        assert entry["duration_ms"] >= 0
        assert entry["ip"] == "127.0.0.1"
    assert [(e["method"], e["path"]) for e in entries] == [
        ("GET", "/healthz"),
        ("GET", "/auth/me"),
        ("POST", "/auth/login"),
        ("GET", "/nope"),
    ]


def test_the_request_line_names_the_authenticated_user(
    alice: User, alice_headers: dict[str, str], logs: LogLines, client: FlaskClient
) -> None:
    anonymous = client.get("/healthz")
    authenticated = client.get("/auth/me", headers=alice_headers)

    by_id = {e["request_id"]: e for e in logs.requests()}
    assert by_id[anonymous.headers["X-Request-ID"]]["user_id"] is None
    assert by_id[authenticated.headers["X-Request-ID"]]["user_id"] == alice.id


def test_an_anonymous_request_after_an_authenticated_one_is_not_attributed_to_anyone() -> None:
    # A fresh app whose requests each get their own app context, as under gunicorn.
    app = create_app(config.Testing())
    with app.app_context():
        db.create_all()
        register("alice", "alice@example.com", PASSWORD)
    client = app.test_client()
    token = client.post("/auth/login", json={"username": "alice", "password": PASSWORD}).json
    handler = capture_logs()
    try:
        client.get("/auth/me", headers=bearer(token["access_token"]))
        client.get("/healthz")
    finally:
        logging.getLogger("myapi").removeHandler(handler)

    authenticated, anonymous = handler.requests()
    assert authenticated["user_id"] is not None
    assert anonymous["user_id"] is None


def test_the_query_string_is_never_logged(logs: LogLines, client: FlaskClient) -> None:
    client.get("/healthz?access_token=sEcReT-tOkEn&password=hunter2")

    entry = only(logs.requests())
    assert entry["path"] == "/healthz"
    assert "sEcReT-tOkEn" not in logs.text()
    assert "hunter2" not in logs.text()


def test_the_callers_request_id_is_logged_on_the_request_and_its_audit_events(
    alice: User, logs: LogLines, client: FlaskClient
) -> None:
    client.post(
        "/auth/login",
        json={"username": "alice", "password": "not the password"},
        headers={"X-Request-ID": "req-from-gateway-7"},
    )

    assert only(logs.requests())["request_id"] == "req-from-gateway-7"
    assert only(logs.events("login_failed"))["request_id"] == "req-from-gateway-7"


# --- Audit events ---


def test_a_wrong_password_is_audited_as_login_failed(
    alice: User, logs: LogLines, client: FlaskClient
) -> None:
    response = client.post("/auth/login", json={"username": "Alice", "password": "wrong password"})

    event = only(logs.events("login_failed"))
    assert event["user_id"] == alice.id
    assert event["reason"] == "bad_password"
    assert event["request_id"] == response.headers["X-Request-ID"]
    assert event["ip"] == "127.0.0.1"
    assert "wrong password" not in logs.text()


def test_an_unknown_user_is_audited_without_what_was_typed_as_the_username(
    logs: LogLines, client: FlaskClient
) -> None:
    # People type their password into the username field; it must not reach the log.
    client.post("/auth/login", json={"username": "MySecretPass99", "password": "whatever it is"})

    event = only(logs.events("login_failed"))
    assert (event["user_id"], event["reason"]) == (None, "unknown_user")
    assert "mysecretpass99" not in logs.text().lower()


def test_a_login_is_audited_as_login_succeeded(
    alice: User, logs: LogLines, client: FlaskClient
) -> None:
    response = client.post("/auth/login", json={"username": "alice", "password": PASSWORD})

    event = only(logs.events("login_succeeded"))
    assert event["user_id"] == alice.id
    assert event["session_id"]
    assert event["request_id"] == response.headers["X-Request-ID"]


def test_a_refresh_is_audited_as_token_refreshed(
    alice: User, alice_tokens: dict[str, Any], logs: LogLines, client: FlaskClient
) -> None:
    response = client.post("/auth/refresh", headers=bearer(alice_tokens["refresh_token"]))

    assert response.status_code == 200
    event = only(logs.events("token_refreshed"))
    assert event["user_id"] == alice.id
    assert event["request_id"] == response.headers["X-Request-ID"]


def test_reusing_a_rotated_refresh_token_is_audited_as_refresh_reuse_detected(
    alice: User, alice_tokens: dict[str, Any], logs: LogLines, client: FlaskClient
) -> None:
    first = alice_tokens["refresh_token"]
    second = client.post("/auth/refresh", headers=bearer(first)).json["refresh_token"]
    assert client.post("/auth/refresh", headers=bearer(second)).status_code == 200

    reuse = client.post("/auth/refresh", headers=bearer(first))

    assert reuse.status_code == 401
    event = only(logs.events("refresh_reuse_detected"))
    assert event["user_id"] == alice.id
    assert event["request_id"] == reuse.headers["X-Request-ID"]


def test_a_logout_is_audited(
    alice: User, alice_headers: dict[str, str], logs: LogLines, client: FlaskClient
) -> None:
    response = client.post("/auth/logout", headers=alice_headers)

    assert response.status_code == 204
    event = only(logs.events("logout"))
    assert event["user_id"] == alice.id
    assert event["request_id"] == response.headers["X-Request-ID"]


def test_a_password_change_is_audited(
    alice: User, alice_headers: dict[str, str], logs: LogLines, client: FlaskClient
) -> None:
    response = client.put(
        "/auth/password",
        headers=alice_headers,
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 204
    event = only(logs.events("password_changed"))
    assert event["user_id"] == alice.id
    assert NEW_PASSWORD not in logs.text()
    assert PASSWORD not in logs.text()


def test_a_role_change_is_audited(
    alice: User, admin_headers: dict[str, str], logs: LogLines, client: FlaskClient
) -> None:
    response = client.patch(
        f"/api/v1/admin/users/{alice.id}", headers=admin_headers, json={"role": "admin"}
    )

    assert response.status_code == 200
    event = only(logs.events("role_changed"))
    assert (event["user_id"], event["previous"], event["role"]) == (alice.id, "user", "admin")
    assert event["request_id"] == response.headers["X-Request-ID"]


def test_disabling_a_user_is_audited(
    alice: User, admin_headers: dict[str, str], logs: LogLines, client: FlaskClient
) -> None:
    response = client.patch(
        f"/api/v1/admin/users/{alice.id}", headers=admin_headers, json={"is_active": False}
    )

    assert response.status_code == 200
    event = only(logs.events("user_disabled"))
    assert event["user_id"] == alice.id


def test_an_audit_event_outside_a_request_is_still_logged(app: Flask, logs: LogLines) -> None:
    # The CLI changes accounts through the same service functions, with no request around.
    user = register("dave", "dave@example.com", PASSWORD)

    event = only(logs.events("user_registered"))
    assert event["user_id"] == user.id
    assert PASSWORD not in logs.text()


# --- No secrets ---


def test_no_log_line_holds_a_token_a_password_or_a_hash(
    app: Flask, logs: LogLines, client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    passwords = [PASSWORD, NEW_PASSWORD, "a wrong guess at it", "carol's own passphrase"]
    tokens: list[str] = [admin_headers["Authorization"].removeprefix("Bearer ")]

    def keep(response: Any) -> Any:
        if response.is_json and isinstance(response.json, dict):
            tokens.extend(v for k, v in response.json.items() if k.endswith("_token"))
        return response

    client.post(
        "/auth/register",
        json={"username": "carol", "email": "carol@example.com", "password": passwords[3]},
    )
    client.post("/auth/login", json={"username": "carol", "password": passwords[2]})
    pair = keep(client.post("/auth/login", json={"username": "carol", "password": passwords[3]}))
    access, refresh_token = pair.json["access_token"], pair.json["refresh_token"]
    pair = keep(client.post("/auth/refresh", headers=bearer(refresh_token)))
    client.post("/auth/refresh", headers=bearer(refresh_token))  # grace-window retry
    access = pair.json["access_token"]
    client.get("/auth/me", headers=bearer(access))
    client.get("/auth/me", query_string={"access_token": access})
    client.get("/auth/me", headers=bearer(access), query_string={"access_token": access})
    client.get("/auth/me", headers=bearer(access + "x"))
    fresh = keep(client.post("/auth/login", json={"username": "carol", "password": passwords[3]}))
    client.put(
        "/auth/password",
        headers=bearer(fresh.json["access_token"]),
        json={"current_password": passwords[3], "new_password": NEW_PASSWORD},
    )
    client.put(
        "/auth/password",
        headers=bearer(fresh.json["access_token"]),
        json={"current_password": passwords[2], "new_password": PASSWORD},
    )
    keep(client.post("/auth/login", json={"username": "carol", "password": NEW_PASSWORD}))
    client.post("/auth/logout", headers=bearer(access))
    client.get("/api/v1/admin/users", headers=admin_headers)
    hashes = [u.password_hash for u in db.session.scalars(db.select(User))]

    text = logs.text()
    assert len(logs.requests()) >= 15
    assert tokens
    for secret in [*tokens, *passwords, *hashes]:
        assert secret not in text
    for token in tokens:
        assert token.rsplit(".", 1)[1] not in text  # not even the signature
    assert "eyJ" not in text
