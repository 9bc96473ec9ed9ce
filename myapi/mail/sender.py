"""The in-process sender: a daemon thread per process that drains the outbox.

In `after-commit` delivery mode (the default) every process of the app, each gunicorn
worker included, runs one: a commit that queued mail wakes it, so the request that queued
a message never waits for SMTP, and it wakes by itself every `MAIL_RETRY_SECONDS` to retry
what failed. The thread is started on the first request a process serves (a gunicorn worker
is forked, and threads do not survive a fork), so a restarted process picks up the backlog
too. `flask mail send --loop` is the same loop as a process of its own (`worker` mode).
"""

from __future__ import annotations

import logging
import os
import threading

from flask import Flask

from myapi.extensions import db
from myapi.services import outbox, recovery

log = logging.getLogger("myapi.mail")


class BackgroundSender:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self._wanted = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._stopped = False

    def ensure_running(self) -> None:
        """Start this process's thread unless it runs (cheap: called before each request)."""
        if self._stopped or (
            self._pid == os.getpid() and self._thread is not None and self._thread.is_alive()
        ):
            return
        with self._lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            self._pid = os.getpid()
            self._wanted = threading.Event()
            self._thread = threading.Thread(target=self._run, name="mail-sender", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self.ensure_running()
        self._wanted.set()

    def stop(self) -> None:
        """End the thread after its current pass (an app being torn down, in tests)."""
        self._stopped = True
        self._wanted.set()
        if self._thread is not None and self._pid == os.getpid():
            self._thread.join(timeout=3 * self.app.config["MAIL_TIMEOUT_SECONDS"] + 5)

    def _run(self) -> None:
        wanted = self._wanted
        while not self._stopped:
            wanted.wait(timeout=self.app.config["MAIL_RETRY_SECONDS"])
            wanted.clear()
            if not self._stopped:
                send_due(self.app)


def one_pass() -> outbox.Delivery:
    """Resolve the recorded reset requests (queuing their emails), then send what is due."""
    recovery.resolve_reset_requests()
    return outbox.deliver_due()


def send_due(app: Flask) -> outbox.Delivery | None:
    """One pass in its own app context; a failure is logged, never raised."""
    with app.app_context():
        try:
            return one_pass()
        except Exception as error:  # the database is down: the next pass tries again
            log.warning("mail pass failed: %s", type(error).__name__)
            return None
        finally:
            db.session.remove()


def register_mail_sender(app: Flask) -> None:
    """In `after-commit` mode, give each process a sender, started by its first request."""
    if app.config["MAIL_DELIVERY"] != "after-commit":
        return
    sender = BackgroundSender(app)
    app.extensions["mail_sender"] = sender
    app.before_request(sender.ensure_running)
