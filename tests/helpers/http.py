"""Helpers for talking to the app in tests: the test password, bearer headers, problem answers."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

PASSWORD = "correct horse battery staple"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refresh(client: FlaskClient, refresh_token: str) -> Any:
    return client.post("/auth/refresh", headers=bearer(refresh_token))


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["status"] == status
    assert {"type", "title", "detail"} <= set(body)
    return body
