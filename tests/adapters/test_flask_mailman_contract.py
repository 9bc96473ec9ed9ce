"""Contract of `myapi.adapters.flask_mailman` with Flask-Mailman 1.1.

The adapter replaces the SMTP backend's `open()`; the rest of the backend (sending over
`self.connection`, `close()`) is the library's. If an upgrade changes what `open()` must do
or how the backend uses the connection, these fail before mail goes out unverified.
"""

from __future__ import annotations

import inspect
from importlib.metadata import version

from flask_mailman.backends.smtp import EmailBackend

from myapi.adapters.flask_mailman import VerifiedSMTPBackend


def test_the_library_is_the_version_the_adapter_was_written_for() -> None:
    assert version("flask-mailman").startswith("1.1.")


def test_open_keeps_the_upstream_signature_and_the_backend_still_sends_through_it() -> None:
    ours = inspect.signature(VerifiedSMTPBackend.open).parameters
    assert list(ours) == list(inspect.signature(EmailBackend.open).parameters)
    send_messages = inspect.getsource(EmailBackend.send_messages)
    assert "self.open()" in send_messages
    assert "self.connection.sendmail" in inspect.getsource(EmailBackend._send)


def test_upstream_still_upgrades_without_verifying_so_the_adapter_is_still_needed() -> None:
    # If this fails, upstream verifies certificates itself: the adapter can go.
    assert "starttls(context=context)" in inspect.getsource(EmailBackend.open)
    assert "context = None" in inspect.getsource(EmailBackend.open)
