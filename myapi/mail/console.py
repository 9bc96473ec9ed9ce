"""The development mail backend: each message goes to the log, marked as not sent.

A Flask-Mailman backend (its documented extension point, `BaseEmailBackend`), chosen by
`library_settings` only when no SMTP server is configured and the app is not Production
(which refuses to start that way), so a link with a token reaches a log only on a
developer's machine.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from flask_mailman.backends.base import BaseEmailBackend

log = logging.getLogger("myapi.mail.console")

BANNER = "DEVELOPMENT MAIL, NOT SENT (no SMTP server configured: set MAIL_URL)"


class MarkedConsoleBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[Any]) -> int:
        for message in email_messages:
            text = message.message().as_string()
            log.warning("%s\n%s\n%s\n%s", "=" * 72, BANNER, text, "=" * 72)
        return len(email_messages)
