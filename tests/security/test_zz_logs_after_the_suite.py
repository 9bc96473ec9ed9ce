"""Catalogue D13, run last (the file sorts after the others): the logs of every server of
this run hold no token and no password, after everything the suite sent them."""

from __future__ import annotations

from tests.helpers.polling import poll
from tests.mail.smtp_server import RESET_SUBJECT, LoopbackSMTP
from tests.security.live import Client, Server
from tests.security.suite import Account, login

ME = "/auth/me"


def test_D13_no_token_or_password_reaches_the_logs(
    client: Client, live: Server, alice: Account, admin_account: Account, mailbox: LoopbackSMTP
) -> None:
    wrong_password = "wrong passphrase that must never be logged"
    tokens = login(client, alice.username, alice.password)
    client.post("/auth/refresh", token=tokens["refresh_token"])
    client.get(f"{ME}?access_token={tokens['access_token']}")
    client.post("/auth/login", json_body={"username": alice.username, "password": wrong_password})
    client.post("/auth/login", json_body={"username": wrong_password, "password": wrong_password})
    client.post("/auth/password/forgot", json_body={"email": alice.email})
    poll(lambda: mailbox.to(alice.email, RESET_SUBJECT), bool, "the reset email", timeout=20)

    logs = "".join(path.read_text(errors="replace") for path in live.log_path.parent.glob("*.log"))

    assert "eyJ" not in logs
    # Emailed tokens and their links (E8, E9 sent many): never in a Production log.
    assert "myapi_pwr_" not in logs
    assert "myapi_evt_" not in logs
    assert "#token=" not in logs
    for secret in (alice.password, admin_account.password, wrong_password, live.secret):
        assert secret not in logs
    assert '"event": "login_failed"' in logs  # the logs were really read
