"""Contract of `myapi.adapters.gunicorn` with gunicorn 27.0.

The adapter replaces `gunicorn.util.write_error` in its workers. These tests fail if an
upgrade renames or re-signs that function, stops writing its error answers through it, or
changes how a worker starts, before any refusal goes back to being an HTML page.
"""

from __future__ import annotations

import inspect
import json
import socket
from typing import Any

import gunicorn
import pytest
from gunicorn import util
from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.workers.base import Worker
from gunicorn.workers.gthread import ThreadWorker
from gunicorn.workers.sync import SyncWorker

from myapi import serving
from myapi.adapters.gunicorn import (
    ProblemAnswers,
    SyncProblemWorker,
    ThreadProblemWorker,
    write_problem,
)


def test_the_library_is_the_version_the_adapter_was_written_for() -> None:
    assert gunicorn.version_info[:2] == (27, 0)


def test_the_replaced_function_still_has_the_upstream_signature() -> None:
    upstream = inspect.signature(util.write_error)
    ours = inspect.signature(write_problem)

    assert list(upstream.parameters) == ["sock", "status_int", "reason", "mesg"]
    assert list(ours.parameters) == list(upstream.parameters)


class QuietLog:
    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def answer_of_the_error_handler(exc: Exception, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """What `Worker.handle_error` writes for `exc`, with `write_error` replaced as a worker does."""
    monkeypatch.setattr(util, "write_error", write_problem)
    worker = object.__new__(Worker)
    worker.log = QuietLog()
    ours, theirs = socket.socketpair()
    with ours, theirs:
        Worker.handle_error(worker, None, ours, ("127.0.0.1", 4242), exc)
        ours.close()
        return theirs.makefile("rb").read()


@pytest.mark.parametrize(
    ("exc", "status"),
    [(LimitRequestLine(5000, 4094), 414), (LimitRequestHeaders("too many"), 431)],
    ids=["request-line", "headers"],
)
def test_the_workers_error_handler_answers_through_the_replaced_function(
    exc: Exception, status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = answer_of_the_error_handler(exc, monkeypatch)

    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert lines[0].startswith(f"HTTP/1.1 {status} ")
    assert headers["Content-Type"] == "application/problem+json"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert int(headers["Content-Length"]) == len(body)
    assert json.loads(body) == {
        "type": "about:blank",
        "title": lines[0].split(" ", 2)[2],
        "status": status,
        "detail": lines[0].split(" ", 2)[2],
    }


@pytest.mark.parametrize(
    ("ours", "upstream"), [(ThreadProblemWorker, ThreadWorker), (SyncProblemWorker, SyncWorker)]
)
def test_a_worker_replaces_the_function_before_it_starts_serving(
    ours: type, upstream: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []
    monkeypatch.setattr(util, "write_error", util.write_error)
    monkeypatch.setattr(upstream, "init_process", lambda self: seen.append(util.write_error))

    ours.init_process(object.__new__(ours))

    assert seen == [write_problem]


def test_the_served_worker_class_is_one_of_ours() -> None:
    assert issubclass(util.load_class(serving.worker_class), ProblemAnswers)
