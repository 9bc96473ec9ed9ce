"""SMTP with STARTTLS and a login, as MAIL_URL configures them: the certificate is verified,
the credentials are sent only inside TLS, and a server that cannot be trusted gets nothing."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask

from myapi import create_app
from myapi.clock import utcnow
from myapi.config import Testing
from myapi.extensions import db
from myapi.mail.sender import one_pass
from myapi.services import accounts, outbox
from tests.helpers.http import PASSWORD
from tests.mail.observe import forgot
from tests.mail.smtp_server import RESET_SUBJECT, LoopbackSMTP

LOGIN = ("mailer@example.com", "p@ss:word/with specials")


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "loopback smtp")])
    now = utcnow()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp.crt", directory / "smtp.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path)


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[LoopbackSMTP]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    server = LoopbackSMTP(starttls=context, login=LOGIN)
    server.start()
    yield server
    server.stop()


def mail_app(server: LoopbackSMTP) -> Flask:
    return create_app(Testing(MAIL_URL=server.url, MAIL_TIMEOUT_SECONDS=5))


def test_mail_goes_over_starttls_with_the_login_from_mail_url(
    tls_server: LoopbackSMTP, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The client trusts the loopback certificate as a system one (OpenSSL reads the variable).
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    app = mail_app(tls_server)
    with app.app_context():
        db.create_all()
        accounts.register("alice", "alice@example.com", PASSWORD, email_verified=True)
        forgot(app.test_client(), "alice@example.com")

        assert one_pass() == outbox.Delivery(sent=1)

        assert len(tls_server.to("alice@example.com", RESET_SUBJECT)) == 1
        assert tls_server.logins == [LOGIN[0]]
        db.session.remove()
        db.drop_all()


def test_a_server_whose_certificate_is_not_trusted_gets_no_mail_and_no_password(
    tls_server: LoopbackSMTP,
) -> None:
    app = mail_app(tls_server)
    with app.app_context():
        db.create_all()
        accounts.register("alice", "alice@example.com", PASSWORD, email_verified=True)
        forgot(app.test_client(), "alice@example.com")

        delivery = one_pass()

        assert delivery == outbox.Delivery(failed=1)
        assert tls_server.messages == []
        assert tls_server.logins == []
        assert outbox.backlog()[0] == 1
        db.session.remove()
        db.drop_all()
