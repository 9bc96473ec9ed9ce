"""Password reset on two gunicorn hosts sharing PostgreSQL and Redis, mail over real SMTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.helpers.polling import poll
from tests.mail.smtp_server import RESET_SUBJECT, LoopbackSMTP, token_in
from tests.production.servers import Host, call
from tests.production.test_multi_host import REQUESTS_PER_HOST, bearer, register_and_login

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase"
NOTICE = "Your password was changed"


@pytest.fixture
def mailbox() -> Iterator[LoopbackSMTP]:
    server = LoopbackSMTP()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def two_mailing_hosts(
    start_host: Callable[..., Host], production_env: dict[str, str], mailbox: LoopbackSMTP
) -> tuple[Host, Host]:
    env = production_env | {"ACCOUNT_EMAILS": "true", "MAIL_URL": mailbox.url}
    return start_host(env), start_host(env)


def test_a_reset_on_one_host_ends_every_session_and_token_on_every_worker_of_both(
    two_mailing_hosts: tuple[Host, Host], mailbox: LoopbackSMTP
) -> None:
    first, second = two_mailing_hosts
    on_first = register_and_login(first, "alice")
    login = {"username": "alice", "password": PASSWORD}
    on_second = call(second.url + "/auth/login", "POST", login).body
    pat = call(
        second.url + "/auth/tokens",
        "POST",
        {"name": "ci", "scope": "notes:read"},
        headers=bearer(on_second["access_token"]),
    ).body["token"]

    assert (
        call(second.url + "/auth/password/forgot", "POST", {"email": "alice@example.com"}).status
        == 202
    )
    (message,) = poll(
        lambda: mailbox.to("alice@example.com", RESET_SUBJECT), bool, "the reset email", timeout=20
    )
    reset = call(
        first.url + "/auth/password/reset",
        "POST",
        {"token": token_in(message), "new_password": NEW_PASSWORD},
    )

    assert reset.status == 204
    answers = [
        call(host.url + "/auth/token-info", headers=bearer(token))
        for host in (first, second)
        for token in (on_first["access_token"], on_second["access_token"], pat)
        for _ in range(REQUESTS_PER_HOST // 3)
    ]
    assert {reply.status for reply in answers} == {401}
    for host in (first, second):
        for tokens in (on_first, on_second):
            refreshed = call(
                host.url + "/auth/refresh", "POST", headers=bearer(tokens["refresh_token"])
            )
            assert refreshed.status == 401
    relogin = call(
        first.url + "/auth/login", "POST", {"username": "alice", "password": NEW_PASSWORD}
    )
    assert relogin.status == 200
    notice = poll(lambda: mailbox.to("alice@example.com", NOTICE), bool, "the notice", timeout=20)
    assert "#token=" not in notice[0].as_string()
