"""SMTP as configured: STARTTLS with login, implicit TLS, and a certificate that is checked."""

import shutil
import ssl
import subprocess

import pytest
from aiosmtpd.smtp import AuthResult
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import OutboxMessage
from eventapp.services.mail.worker import send_pending
from eventapp.services.registration import register as service
from eventapp.services.registration.register import RegistrationInput
from tests.mailserver import SmtpServer

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (cert path, key path)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def server_context(certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    return context


def only_mailer(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"mailer" and auth_data.password == b"s3cret-pass"
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


class TlsRecordingHandler:
    def __init__(self):
        self.sessions = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.sessions.append(
            {
                "tls": server.transport.get_extra_info("ssl_object") is not None,
                "login": session.auth_data,
            }
        )
        return "250 OK"


def queue_one(make_event, make_session, now):
    event = make_event()
    data = RegistrationInput(
        name="Ada",
        email="ada@example.org",
        consent=True,
        session_ids=[make_session(event).id],
        locale="en",
    )
    service.register(event, data, now)
    db.session.commit()


def start(certificate, **parameters) -> SmtpServer:
    server = SmtpServer(**parameters)
    server.handler = TlsRecordingHandler()
    return server.start()


def test_starttls_and_login(app, certificate, make_event, make_session, now):
    server = start(
        certificate,
        tls_context=server_context(certificate),
        require_starttls=True,
        authenticator=only_mailer,
        auth_required=True,
        auth_require_tls=True,
    )
    try:
        server.configure(app)
        app.config.update(
            MAIL_USE_TLS=True,
            MAIL_USERNAME="mailer",
            MAIL_PASSWORD="s3cret-pass",
            MAIL_SSL_CAFILE=str(certificate[0]),
        )
        queue_one(make_event, make_session, now)

        assert send_pending(now=now).sent == 1
    finally:
        server.stop()
    assert server.handler.sessions == [{"tls": True, "login": b"mailer"}]


def test_implicit_tls(app, certificate, make_event, make_session, now):
    server = start(certificate, ssl_context=server_context(certificate))
    try:
        server.configure(app)
        app.config.update(MAIL_USE_SSL=True, MAIL_SSL_CAFILE=str(certificate[0]))
        queue_one(make_event, make_session, now)

        assert send_pending(now=now).sent == 1
    finally:
        server.stop()
    assert server.handler.sessions[0]["tls"] is True


def test_an_untrusted_certificate_is_refused_and_the_mail_waits(
    app, certificate, make_event, make_session, now
):
    server = start(certificate, tls_context=server_context(certificate), require_starttls=True)
    try:
        server.configure(app)
        app.config.update(MAIL_USE_TLS=True)  # no MAIL_SSL_CAFILE: the system CAs only
        queue_one(make_event, make_session, now)

        report = send_pending(now=now)
    finally:
        server.stop()
    assert (report.sent, report.postponed) == (0, 1)
    row = db.session.scalar(select(OutboxMessage))
    assert row.status == "pending" and "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert server.handler.sessions == []


def test_a_wrong_password_keeps_the_mail_for_later(app, certificate, make_event, make_session, now):
    server = start(
        certificate,
        tls_context=server_context(certificate),
        require_starttls=True,
        authenticator=only_mailer,
        auth_required=True,
    )
    try:
        server.configure(app)
        app.config.update(
            MAIL_USE_TLS=True,
            MAIL_USERNAME="mailer",
            MAIL_PASSWORD="wrong",
            MAIL_SSL_CAFILE=str(certificate[0]),
        )
        queue_one(make_event, make_session, now)

        report = send_pending(now=now)
    finally:
        server.stop()
    # A configuration problem, not the message's: it waits, using none of its attempts.
    assert (report.sent, report.postponed, report.failed) == (0, 1, 0)
    assert db.session.scalar(select(OutboxMessage)).attempts == 0
    assert "SMTPAuthenticationError" in db.session.scalar(select(OutboxMessage)).last_error
