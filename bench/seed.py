"""Users and tokens for the bench, made with the service's own code against the bench's stack."""

from __future__ import annotations

import logging
import os
import statistics
import time
from dataclasses import dataclass

PASSWORD = "bench horse battery staple"


@dataclass
class Seeded:
    access_tokens: list[str]
    login_usernames: list[str]
    hash_ms: float


def seed(env: dict[str, str], *, users: int, sessions: int) -> Seeded:
    """`users` accounts sharing one password hash; a session (a real login's) for `sessions`.

    Accounts are inserted directly with a hash computed once, since hashing each
    would take longer than the whole bench; sessions go through `start_session`,
    so the Redis mirror is written exactly as a login writes it.
    """
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return _seed(users, sessions)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _seed(users: int, sessions: int) -> Seeded:
    from sqlalchemy import select

    from myapi import create_app
    from myapi.extensions import db
    from myapi.models import User
    from myapi.security.passwords import hash_password, verify_password
    from myapi.services.sessions import Device, start_session

    app = create_app("production")
    logging.getLogger("myapi").handlers[:] = [logging.NullHandler()]
    with app.app_context():
        password_hash = hash_password(PASSWORD)
        db.session.add_all(
            User(
                username=f"bench{i}",
                email=f"bench{i}@example.com",
                password_hash=password_hash,
                role="user",
            )
            for i in range(users)
        )
        db.session.commit()
        accounts = db.session.scalars(select(User).order_by(User.id)).all()
        login_usernames = [user.username for user in accounts[sessions:]]
        tokens = []
        for user in accounts[:sessions]:
            pair = start_session(user, "notes:read notes:write", Device("bench", "127.0.0.1"))
            tokens.append(pair.access_token)
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            verify_password(password_hash, PASSWORD)
            timings.append((time.perf_counter() - started) * 1000)
        db.session.remove()
        db.engine.dispose()
    return Seeded(
        access_tokens=tokens,
        login_usernames=login_usernames,
        hash_ms=statistics.median(timings),
    )
