"""`MAIL_DELIVERY=worker`: the web process only queues; `flask mail send --loop`, a process of
its own, sends."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from myapi import create_app
from myapi.config import Testing
from myapi.extensions import db
from myapi.services import accounts
from tests.helpers.http import PASSWORD
from tests.helpers.polling import poll
from tests.mail.observe import forgot, outbox_rows
from tests.mail.smtp_server import RESET_SUBJECT, LoopbackSMTP
from tests.production.servers import BIN, ROOT


@pytest.fixture
def database_file(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'worker.db'}"


@pytest.fixture
def web_app(database_file: str, smtp_server: LoopbackSMTP) -> Iterator[Flask]:
    app = create_app(Testing(SQLALCHEMY_DATABASE_URI=database_file, MAIL_URL=smtp_server.url))
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def mail_worker(database_file: str, smtp_server: LoopbackSMTP, tmp_path: Path) -> Iterator[None]:
    env = os.environ | {
        "MYAPI_CONFIG": "development",
        "DATABASE_URL": database_file,
        "MAIL_URL": smtp_server.url,
        "MAIL_DELIVERY": "worker",
        "MAIL_RETRY_SECONDS": "1",
    }
    with (tmp_path / "worker.log").open("w") as log:
        worker = subprocess.Popen(
            [str(BIN / "flask"), "--app", "wsgi", "mail", "send", "--loop"],
            cwd=tmp_path,
            env=env | {"PYTHONPATH": str(ROOT)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        yield
        worker.terminate()
        worker.wait(timeout=10)


def test_the_web_process_only_queues_and_the_worker_sends(
    web_app: Flask, smtp_server: LoopbackSMTP, mail_worker: None
) -> None:
    assert web_app.config["MAIL_DELIVERY"] == "worker"
    accounts.register("alice", "alice@example.com", PASSWORD, email_verified=True)

    assert forgot(web_app.test_client(), "alice@example.com").status_code == 202

    poll(
        lambda: smtp_server.to("alice@example.com", RESET_SUBJECT),
        bool,
        "the email sent by the worker",
        timeout=20,
    )
    (row,) = poll(outbox_rows, lambda rows: rows[0].sent_at is not None, "the mark", timeout=5)
    assert row.context == "{}"
