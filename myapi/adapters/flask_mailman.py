"""Flask-Mailman's SMTP backend, opening connections whose TLS certificate is verified.

Flask-Mailman 1.1's `flask_mailman.backends.smtp.EmailBackend.open` upgrades a connection
with `starttls(context=None)` (unless a client certificate is configured), and smtplib then
uses a context that checks neither the certificate nor the host name: anyone on the path to
the SMTP server could read every reset link and the SMTP password. This backend replaces
`open()` only: STARTTLS and implicit TLS both use `ssl.create_default_context()` (the
system's trusted certificates, host name checked), and the credentials are sent only after
that. It is a backend class, Flask-Mailman's documented extension point (`MAIL_BACKEND`);
everything else (sending, closing) is the library's. tests/adapters/ pins the version and
tests/mail/test_smtp_tls.py proves an untrusted server gets nothing.
"""

from __future__ import annotations

import smtplib
import ssl
from typing import Any

from flask_mailman.backends.smtp import EmailBackend
from flask_mailman.utils import DNS_NAME


class VerifiedSMTPBackend(EmailBackend):
    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.ssl_certfile:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return context

    def open(self) -> bool | None:
        """Connect (and log in) unless connected; True when a new connection was made."""
        if self.connection:
            return False
        options: dict[str, Any] = {"local_hostname": DNS_NAME.get_fqdn()}
        if self.timeout is not None:
            options["timeout"] = self.timeout
        try:
            if self.use_ssl:
                self.connection = smtplib.SMTP_SSL(
                    self.host, self.port, context=self._tls_context(), **options
                )
            else:
                self.connection = smtplib.SMTP(self.host, self.port, **options)
                if self.use_tls:
                    self.connection.starttls(context=self._tls_context())
            if self.username and self.password:
                self.connection.login(self.username, self.password)
        except OSError:
            self.close()
            if not self.fail_silently:
                raise
            return None
        return True
