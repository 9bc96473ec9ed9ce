"""Of several resets racing with one token, exactly one wins."""

from __future__ import annotations

import threading
from collections import Counter

from flask import Flask

from myapi.extensions import db
from myapi.security.passwords import verify_password
from myapi.services import accounts
from tests.helpers.http import PASSWORD
from tests.helpers.polling import poll
from tests.mail.observe import forgot, reset
from tests.mail.smtp_server import LoopbackSMTP, token_in

RACERS = 6


def test_concurrent_resets_with_one_token_have_one_winner(
    threaded_app: Flask, smtp_server: LoopbackSMTP
) -> None:
    accounts.register("alice", "alice@example.com", PASSWORD, email_verified=True)
    forgot(threaded_app.test_client(), "alice@example.com")
    (message,) = poll(lambda: smtp_server.to("alice@example.com"), bool, "the link", timeout=10)
    token = token_in(message)
    start = threading.Barrier(RACERS)
    statuses: list[int] = []

    def race(number: int) -> None:
        with threaded_app.app_context():
            client = threaded_app.test_client()
            start.wait()
            answer = reset(client, token, f"new passphrase number {number}")
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Counter(statuses) == {204: 1, 400: RACERS - 1}
    db.session.expire_all()
    stored = accounts.find_user("alice").password_hash
    winners = [n for n in range(RACERS) if verify_password(stored, f"new passphrase number {n}")]
    assert len(winners) == 1
