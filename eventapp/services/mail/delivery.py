"""Handing a composed message (transport.OutgoingMessage) to the mail server, or to a file.

What the worker needs to know about a failure is whose fault it is:
- `TransportDown`: the server could not be reached or would not talk to us (connection
  refused, timeout, TLS or login failure, a 421 greeting, a connection that broke and could
  not be opened again, our sender refused at MAIL FROM: a login it wants, a sender it will
  not relay for). Nothing is wrong with the messages; the worker hands them back
  without using up their attempts, and they go out by themselves when the server is back.
- any other error is about this message: an SMTP reply to it (5xx for the recipient is
  final, 4xx is tried again later), or a connection that breaks again on this very message
  right after a fresh one was opened.

A message is sent with its `followers` (calendar-only emails of the same change, see
transport.py), in order. A failure part-way fails the outbox row, whose retry sends them all
again: at least once, with the same Message-IDs, UIDs and SEQUENCEs, which mail stores and
calendars treat as what they already have.

Addresses with a non-ASCII local part (jürgen@example.org) go out with SMTPUTF8 (RFC 6531),
headers in raw UTF-8; registration accepts such addresses only when MAIL_SMTPUTF8 says the
relay offers it (services/validation.py). If the relay does not advertise SMTPUTF8 after
all, `Utf8NotOffered` fails that message at once, with a reason the organisers can read.
"""

from __future__ import annotations

import contextlib
import logging
import os
import smtplib
import ssl
import tempfile
import time
from pathlib import Path

import flask_mail
from flask import Flask, current_app

from .transport import OutgoingMessage, compose, one_line

log = logging.getLogger(__name__)


# Replies to MAIL FROM that are about this message, not the sender: 421 (the connection is
# closing, handled as a broken connection), 552 (its size), 555 (its parameters).
MESSAGE_SENDER_CODES = frozenset({421, 552, 555})


class TransportDown(Exception):
    """The mail server could not be reached or refused us: retry every message later."""


class Utf8NotOffered(Exception):
    """The address needs SMTPUTF8 and the server does not offer it: final for this message."""


def needs_smtputf8(message: OutgoingMessage) -> bool:
    """True when an envelope address's local part (before the @) is not ASCII."""
    addresses = [message.envelope_sender, *message.envelope_recipients]
    return any(not address.rpartition("@")[0].isascii() for address in addresses)


def message_bytes(message: OutgoingMessage) -> bytes:
    """The message as sent, CRLF line ends; raw UTF-8 headers when SMTPUTF8 is used."""
    tree = compose(message)
    if needs_smtputf8(message):
        return tree.as_bytes(policy=tree.policy.clone(utf8=True))
    return tree.as_bytes()


def _connection_broke(error: Exception) -> bool:
    """The connection is gone (not a reply about this message)."""
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == 421  # "service not available, closing transmission channel"
    return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)


def _tls_context(config) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=config.get("MAIL_SSL_CAFILE") or None)
    if not config.get("MAIL_SSL_VERIFY", True):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def connect(config) -> smtplib.SMTP:
    """An SMTP connection with a socket timeout (a hung server must not stall the worker
    forever), a verifying TLS context, and the login done; TransportDown if that fails."""
    timeout = config.get("MAIL_TIMEOUT", 30)
    server, port = config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25)
    host = None
    try:
        context = _tls_context(config)
        if config.get("MAIL_USE_SSL"):
            host = smtplib.SMTP_SSL(server, port, timeout=timeout, context=context)
        else:
            host = smtplib.SMTP(server, port, timeout=timeout)
        host.set_debuglevel(int(bool(config.get("MAIL_DEBUG"))))
        host.ehlo_or_helo_if_needed()
        if config.get("MAIL_USE_TLS"):
            host.starttls(context=context)
            host.ehlo()
        if config.get("MAIL_USERNAME") and config.get("MAIL_PASSWORD"):
            host.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    except (OSError, smtplib.SMTPException) as error:
        if host is not None:
            with contextlib.suppress(OSError):
                host.close()
        raise TransportDown(f"{type(error).__name__}: {error}") from error
    return host


def offers_smtputf8(config) -> bool:
    """Whether the mail server advertises SMTPUTF8 in its EHLO answer, as the worker's
    connection sees it (after STARTTLS and the login), for `config check`; TransportDown
    when it cannot be reached. A short timeout: an operator is waiting at the prompt."""
    host = connect({**config, "MAIL_TIMEOUT": min(config.get("MAIL_TIMEOUT") or 10, 10)})
    try:
        return host.has_extn("smtputf8")
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            host.quit()


def _dispatched(message: OutgoingMessage) -> None:
    """Flask-Mail's public `email_dispatched` signal, for listeners (tests, logging)."""
    flask_mail.email_dispatched.send(current_app._get_current_object(), message=message)


def _composed(message: OutgoingMessage) -> list[tuple[OutgoingMessage, bytes]]:
    """Every email of the message as bytes, before anything is sent: bad headers fail here."""
    if message.date is None:
        message.date = time.time()
    return [(email, message_bytes(email)) for email in message.all_messages]


class SmtpTransport:
    """One SMTP connection, opened on first use and kept for the whole run."""

    def __init__(self, app: Flask):
        # The current config, not the one create_app saw, so later changes apply.
        self.config = app.config
        self.host: smtplib.SMTP | None = None

    def send(self, message: OutgoingMessage, outbox_id: int, kind: str) -> None:
        for email, data in _composed(message):
            try:
                self._send(email, data)
            except (OSError, smtplib.SMTPException) as error:
                if not _connection_broke(error):
                    raise
                # An idle connection the server closed, or a server restart: one fresh
                # connection decides. Unreachable now is TransportDown (an outage, no attempt
                # used); breaking again on this message is this message's failure.
                self.reset()
                self._send(email, data)
        _dispatched(message)

    def _send(self, email: OutgoingMessage, data: bytes) -> None:
        if self.host is None:
            self.host = connect(self.config)
        host = self.host
        options = []
        if needs_smtputf8(email):
            if not host.has_extn("smtputf8"):
                raise Utf8NotOffered(
                    "The mail server does not offer SMTPUTF8, needed for an address with "
                    "non-ASCII characters before the @; set MAIL_SMTPUTF8 = False to refuse "
                    "such addresses at registration."
                )
            options.append("SMTPUTF8")
            if host.has_extn("8bitmime"):
                options.append("BODY=8BITMIME")
        try:
            host.sendmail(email.envelope_sender, email.envelope_recipients, data, options)
        except smtplib.SMTPSenderRefused as error:
            if error.smtp_code in MESSAGE_SENDER_CODES:
                raise
            # The sender is the same for every message: a relay refusing it (530 wants a
            # login, 550/553 will not relay for it) refuses them all, until a setting is
            # put right. An outage, not this message's failure.
            raise TransportDown(f"{type(error).__name__}: {error}") from error
        except (OSError, smtplib.SMTPException):
            raise
        except Exception:
            # Failed inside smtplib, not by a reply: the server may still be in this
            # message's MAIL transaction, which would refuse the next message ("503 nested
            # MAIL command"). A fresh connection starts clean.
            self.reset()
            raise

    def reset(self) -> None:
        """Forget a connection that may be broken; the next send opens a new one."""
        host, self.host = self.host, None
        if host is not None:
            with contextlib.suppress(OSError):
                host.close()

    def close(self) -> None:
        host, self.host = self.host, None
        if host is not None:
            try:
                host.quit()
            except (OSError, smtplib.SMTPException):
                log.info("closing the SMTP connection failed", exc_info=True)
                with contextlib.suppress(OSError):
                    host.close()


class EmlTransport:
    """No MAIL_SERVER: each message becomes instance/mail/<outbox id>-<kind>.eml, and its
    followers <id>-<kind>-2.eml, -3 ...

    Named by the outbox row, so delivering a message again overwrites the same files: in
    this mode delivery is exactly once. Written to a temporary file and renamed, so a reader
    never sees half a message.
    """

    def __init__(self, app: Flask):
        self.directory = Path(app.config.get("MAIL_EML_DIR") or Path(app.instance_path) / "mail")

    def send(self, message: OutgoingMessage, outbox_id: int, kind: str) -> None:
        emails = _composed(message)
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = f"{outbox_id:08d}-{one_line(kind).replace(' ', '_')}"
        for number, (_email, data) in enumerate(emails, start=1):
            suffix = "" if number == 1 else f"-{number}"
            self._write(self.directory / f"{stem}{suffix}.eml", data)
        _dispatched(message)

    def _write(self, target: Path, data: bytes) -> None:
        handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


def open_transport(app: Flask) -> SmtpTransport | EmlTransport:
    return SmtpTransport(app) if app.config.get("MAIL_SERVER") else EmlTransport(app)
