"""Helpers of the CLI tests."""

from __future__ import annotations

from myapi.extensions import db
from myapi.models import User

GOOD_PASSWORD = "a long enough password"


def stored_user(username: str) -> User | None:
    """The account as the database has it now, not as the session remembers it."""
    db.session.expire_all()
    return db.session.query(User).filter_by(username=username).one_or_none()
