"""gunicorn 27.0, with the answers it writes itself as problem+json like every other error.

gunicorn refuses some requests before the app sees them: a request line longer than
`limit_request_line` (414), too many or too large header fields (431), a malformed request
line, method, HTTP version, header or framing (400; 501 for a transfer coding it does not
implement), and answers 500 if the app itself fails outside Flask. It writes all of them
with `gunicorn.util.write_error(sock, status_int, reason, mesg)` (gunicorn 27.0.1,
`gunicorn/util.py`), called from `gunicorn.workers.base.Worker.handle_error`, as a
text/html page; gunicorn offers no public hook for that page. The workers here replace
that one function, in their own process only, with `write_problem`: the same status, as
`application/problem+json` with the security headers every other answer carries.

What it relies on, pinned by `setup.cfg` (`gunicorn<27.1`) and checked by
`tests/adapters/test_gunicorn_contract.py`: `util.write_error`'s signature, that
`Worker.handle_error` calls it through the `util` module, `util.write_nonblock`, and that
`init_process` runs in the worker process before it serves anything.
"""

from __future__ import annotations

import json
import socket
from http import HTTPStatus

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker
from gunicorn.workers.sync import SyncWorker

from myapi.errors import PROBLEM_MIMETYPE, problem_body
from myapi.http_policy import NOT_CACHEABLE, SECURITY_HEADERS


def write_problem(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """`util.write_error`, answering problem+json.

    gunicorn's `mesg` may quote the refused request line; like every problem's `detail` here,
    the answer is a fixed text instead. The reason phrase is the status's own (gunicorn says
    "Bad Request" for its 501 too).
    """
    body = json.dumps(problem_body(status_int)).encode()
    headers = {
        "Connection": "close",
        "Content-Type": PROBLEM_MIMETYPE,
        "Content-Length": str(len(body)),
        **SECURITY_HEADERS,
        **NOT_CACHEABLE,
    }
    head = f"HTTP/1.1 {status_int} {HTTPStatus(status_int).phrase}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    util.write_nonblock(sock, (head + "\r\n").encode("latin-1") + body)


class ProblemAnswers:
    """A worker whose own error answers are problem+json (mixed into gunicorn's workers)."""

    def init_process(self) -> None:
        # In the worker process, before it serves: the master and other processes keep gunicorn's.
        util.write_error = write_problem
        super().init_process()  # type: ignore[misc]  # runs the worker's loop


class ThreadProblemWorker(ProblemAnswers, ThreadWorker):
    """gunicorn's `gthread` worker."""


class SyncProblemWorker(ProblemAnswers, SyncWorker):
    """gunicorn's `sync` worker."""
