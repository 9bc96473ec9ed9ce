"""A real SMTP server on loopback (aiosmtpd) that keeps every message it accepts.

It can be stopped and started again on the same port, as an SMTP outage would look to the
service: connections are refused while it is down.
"""

from __future__ import annotations

import email
import email.policy
import re
import ssl
import threading
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.loopback import free_port

RESET_SUBJECT = "Reset your password"
_LINK = re.compile(r"https?://\S+#token=[A-Za-z0-9_-]+")


class _KeepEverything:
    def __init__(self, inbox: list[EmailMessage], lock: threading.Lock) -> None:
        self.inbox = inbox
        self.lock = lock

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.inbox.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class LoopbackSMTP:
    """`url` is the MAIL_URL for the service; `messages` what the server accepted so far.

    With `starttls`, the server offers STARTTLS with that context and refuses mail before
    it; with `login`, it also requires AUTH with that user name and password (after TLS).
    """

    def __init__(
        self, *, starttls: ssl.SSLContext | None = None, login: tuple[str, str] | None = None
    ) -> None:
        self.port = free_port()
        credentials = f"{quote(login[0], safe='')}:{quote(login[1], safe='')}@" if login else ""
        scheme = "smtp+starttls" if starttls else "smtp"
        self.url = f"{scheme}://{credentials}127.0.0.1:{self.port}"
        self._inbox: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None
        self._starttls = starttls
        self._login = login
        self.logins: list[str] = []

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        given = (data.login.decode(), data.password.decode())
        if given == self._login:
            self.logins.append(given[0])
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def start(self) -> None:
        options: dict[str, Any] = {}
        if self._starttls:
            options |= {"tls_context": self._starttls, "require_starttls": True}
        if self._login:
            options |= {"authenticator": self._authenticate, "auth_required": True}
        self._controller = Controller(
            _KeepEverything(self._inbox, self._lock),
            hostname="127.0.0.1",
            port=self.port,
            **options,
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return list(self._inbox)

    def to(self, address: str, subject: str | None = None) -> list[EmailMessage]:
        """The messages to `address` (with this subject, if given), oldest first."""
        return [
            message
            for message in self.messages
            if message["To"] == address and subject in (None, message["Subject"])
        ]


def text_body(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def html_body(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]


def link_in(message: EmailMessage) -> str:
    """The one token link in the message's plain-text body."""
    (link,) = _LINK.findall(text_body(message))
    return link


def token_in(message: EmailMessage) -> str:
    return link_in(message).split("#token=", 1)[1]
