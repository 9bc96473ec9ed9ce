"""What the mail tests send and observe: reset requests and answers, outbox and token rows."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from myapi.extensions import db
from myapi.models import AccountToken, OutboxMessage, PasswordResetRequest

INVALID_RESET_TOKEN = "urn:myapi:problem:invalid-reset-token"
#: Headers that differ between any two answers, whatever they answer.
PER_REQUEST_HEADERS = {"X-Request-ID", "X-RateLimit-Reset", "Date"}


def forgot(client: FlaskClient, email: str, **kwargs: Any) -> Any:
    return client.post("/auth/password/forgot", json={"email": email}, **kwargs)


def reset(client: FlaskClient, token: str, new_password: str) -> Any:
    return client.post("/auth/password/reset", json={"token": token, "new_password": new_password})


def comparable(response: Any, *, counters: bool = True) -> tuple[int, bytes, dict[str, str]]:
    """Status, body and headers, leaving out what differs per request (and the rate-limit
    counter, unless `counters`: two answers to one client count down)."""
    ignored = PER_REQUEST_HEADERS | (set() if counters else {"X-RateLimit-Remaining"})
    headers = {k: v for k, v in response.headers.items() if k not in ignored}
    return response.status_code, response.get_data(), headers


def outbox_rows() -> list[OutboxMessage]:
    db.session.expire_all()
    rows = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    db.session.rollback()
    return rows


def token_rows() -> list[AccountToken]:
    db.session.expire_all()
    rows = list(db.session.scalars(select(AccountToken)))
    db.session.rollback()
    return rows


def reset_request_rows() -> list[PasswordResetRequest]:
    db.session.expire_all()
    rows = list(db.session.scalars(select(PasswordResetRequest).order_by(PasswordResetRequest.id)))
    db.session.rollback()
    return rows
