"""Concurrent refreshes of one token: exactly one rotation wins, every caller gets its pair."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask

from myapi.models import User
from myapi.services.accounts import register
from tests.auth.observe import claims, live_session_ids, me, post_login, session_row
from tests.helpers.http import PASSWORD, refresh

THREADS = 8


class EventRecorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.events.append(record.getMessage())


@pytest.fixture
def audit_events() -> Iterator[list[str]]:
    """Names of the audit events the app records during the test."""
    recorder = EventRecorder()
    logger = logging.getLogger("myapi.audit")
    logger.addHandler(recorder)
    yield recorder.events
    logger.removeHandler(recorder)


def test_concurrent_refreshes_of_one_token_continue_a_single_session_family(
    file_app: Flask, audit_events: list[str]
) -> None:
    alice: User = register("alice", "alice@example.com", PASSWORD)
    tokens = post_login(file_app.test_client(), "alice").json
    barrier = threading.Barrier(THREADS)

    def refresh_at_once(_: int) -> tuple[int, Any]:
        client = file_app.test_client()
        barrier.wait()
        response = refresh(client, tokens["refresh_token"])
        return response.status_code, response.json

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(refresh_at_once, range(THREADS)))

    assert [status for status, _ in results] == [200] * THREADS, results
    pairs = {(body["access_token"], body["refresh_token"]) for _, body in results}
    assert len(pairs) == 1
    assert audit_events.count("token_refreshed") == 1
    assert audit_events.count("token_refresh_retried") == THREADS - 1
    ((access_token, refresh_token),) = pairs
    sid = claims(tokens["refresh_token"])["sid"]
    assert live_session_ids(alice) == {sid}
    session = session_row(sid)
    assert session.refresh_jti == claims(refresh_token)["jti"]
    assert session.previous_refresh_jti == claims(tokens["refresh_token"])["jti"]

    client = file_app.test_client()
    assert me(client, access_token).status_code == 200
    following = refresh(client, refresh_token)
    assert following.status_code == 200
    assert session_row(sid).refresh_jti == claims(following.json["refresh_token"])["jti"]
    file_app.config["REFRESH_GRACE_SECONDS"] = 0
    assert refresh(client, tokens["refresh_token"]).status_code == 401
