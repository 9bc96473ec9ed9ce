"""Who is calling: the verified token's user (id at once, row on demand) or OAuth client."""

from __future__ import annotations

from dataclasses import replace

from flask import g
from flask_jwt_extended import get_jwt, get_jwt_header
from flask_jwt_extended.exceptions import UserLookupError
from werkzeug.local import LocalProxy

from myapi.extensions import db
from myapi.models import User


def current_user_id() -> int:
    """The caller's id, known from the revocation check: no extra query."""
    return g.token_status.user_id


def acting_client_id() -> str | None:
    """The OAuth client whose token authorised this request; None for a user's token."""
    return g.token_status.client_id


def _load_current_user() -> User:
    """The SQL store already loaded the row; with Redis it is read here, once, on demand."""
    status = g.token_status
    if status.user is None:
        user = db.session.get(User, status.user_id)
        if user is None:
            raise UserLookupError("user vanished", get_jwt_header(), get_jwt())
        g.token_status = replace(status, user=user)
    return g.token_status.user


current_user: User = LocalProxy(_load_current_user)  # type: ignore[assignment]
