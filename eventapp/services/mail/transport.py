"""Getting a rendered message out: SMTP through Flask-Mail, or .eml files under instance/mail/.

`OutgoingMessage` is Flask-Mail's Message with the MIME tree mail clients handle best:

    multipart/mixed
      multipart/related            (only when there are inline images, e.g. the QR code)
        multipart/alternative
          text/plain; charset=utf-8   quoted-printable
          text/html; charset=utf-8    quoted-printable
        image/png                  Content-ID, inline
      text/calendar; method=X; charset=UTF-8   base64 attachment, one per calendar object

Bodies are quoted-printable rather than Flask-Mail's raw 8bit, which servers without
8BITMIME may mangle, and calendar objects are attachments, never alternatives (RFC 6047 and
CALENDAR.md). Header values that come from people (a name, a session title in a subject) go
through `one_line()`, so a CR or LF can never start a new header.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import smtplib
import ssl
import tempfile
import time
from dataclasses import dataclass
from email import charset as email_charset
from email import policy as email_policy
from email.encoders import encode_base64
from email.mime.base import MIMEBase
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate
from pathlib import Path

import flask_mail
from flask import Flask, current_app

from ...extensions import mail

log = logging.getLogger(__name__)

_QP_UTF8 = email_charset.Charset("utf-8")
_QP_UTF8.body_encoding = email_charset.QP


def one_line(value: str | None) -> str:
    """A header-safe version of text from people: every control character becomes a space."""
    if not value:
        return ""
    cleaned = "".join(
        " " if (ord(ch) < 32 or ord(ch) == 127 or ch in "\u2028\u2029\x85") else ch
        for ch in str(value)
    )
    return " ".join(cleaned.split())


# Characters with a meaning in an address list. Python's email package decodes an encoded
# display name when it re-folds the header and writes these out raw, so a name such as
# `Eve <evil@example.org>, x` would become a second recipient in the To header.
_ADDRESS_SPECIALS = re.compile(r'[<>@,;:"\\()\[\]]|=\?')


def display_name(value: str | None) -> str:
    """A person's name made safe as an address's display name: one line, no specials."""
    return one_line(_ADDRESS_SPECIALS.sub(" ", one_line(value)))


def _safe_recipient(recipient):
    if isinstance(recipient, tuple):
        name, address = recipient
        return (display_name(name), address)
    return recipient


@dataclass
class InlineImage:
    content_id: str  # without the angle brackets
    filename: str
    data: bytes
    subtype: str = "png"


@dataclass
class CalendarPart:
    filename: str
    method: str  # REQUEST, CANCEL or PUBLISH: must equal the METHOD inside `data`
    data: bytes


class OutgoingMessage(flask_mail.Message):
    """A Flask-Mail message with calendar attachments, inline images and safe headers."""

    def __init__(self, *, calendar_parts=(), inline_images=(), message_id=None, **kwargs):
        kwargs["subject"] = one_line(kwargs.get("subject"))  # before has_bad_headers() looks
        super().__init__(**kwargs)
        self.calendar_parts: list[CalendarPart] = list(calendar_parts)
        self.inline_images: list[InlineImage] = list(inline_images)
        if message_id:
            self.msgId = message_id

    def _message(self) -> MIMEBase:
        encoding = "utf-8"
        body: MIMEBase = MIMEMultipart("alternative")
        body.attach(MIMEText(self.body or "", "plain", _QP_UTF8))
        if self.html is not None:
            body.attach(MIMEText(self.html, "html", _QP_UTF8))
        if self.inline_images:
            related = MIMEMultipart("related", type="multipart/alternative")
            related.attach(body)
            for image in self.inline_images:
                part = MIMEImage(image.data, image.subtype)
                part["Content-ID"] = f"<{image.content_id}>"
                part.add_header("Content-Disposition", "inline", filename=image.filename)
                related.attach(part)
            body = related
        message: MIMEBase = body
        if self.calendar_parts or self.attachments:
            message = MIMEMultipart("mixed")
            message.attach(body)
            for calendar in self.calendar_parts:
                message.attach(_calendar_attachment(calendar))
            for attachment in self.attachments:
                message.attach(_plain_attachment(attachment))

        message["Subject"] = flask_mail.sanitize_subject(one_line(self.subject), encoding)
        message["From"] = flask_mail.sanitize_address(self.sender, encoding)
        message["To"] = ", ".join(
            flask_mail.sanitize_addresses([_safe_recipient(r) for r in self.recipients], encoding)
        )
        message["Date"] = formatdate(self.date, localtime=True)
        message["Message-ID"] = self.msgId
        if self.reply_to:
            message["Reply-To"] = flask_mail.sanitize_address(self.reply_to, encoding)
        for name, value in (self.extra_headers or {}).items():
            message[one_line(name)] = one_line(value)
        message.policy = email_policy.SMTP
        return message


def _calendar_attachment(calendar: CalendarPart) -> MIMEBase:
    part = MIMEBase("text", "calendar", method=calendar.method, charset="UTF-8")
    part.set_payload(calendar.data)
    encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=calendar.filename)
    return part


def _plain_attachment(attachment: flask_mail.Attachment) -> MIMEBase:
    maintype, _, subtype = attachment.content_type.partition("/")
    part = MIMEBase(maintype, subtype or "octet-stream")
    part.set_payload(attachment.data)
    encode_base64(part)
    part.add_header("Content-Disposition", attachment.disposition, filename=attachment.filename)
    return part


class TransportDown(Exception):
    """The mail server could not be reached or refused us: retry every message later."""


class SmtpConnection(flask_mail.Connection):
    """Flask-Mail's connection with a socket timeout and a verifying TLS context.

    Flask-Mail itself opens sockets without a timeout (a hung server would stall the worker
    forever) and starts TLS without checking the certificate.
    """

    def configure_host(self) -> smtplib.SMTP:
        config = current_app.config
        timeout = config.get("MAIL_TIMEOUT", 30)
        context = _tls_context(config)
        if self.mail.use_ssl:
            host = smtplib.SMTP_SSL(
                self.mail.server, self.mail.port, timeout=timeout, context=context
            )
        else:
            host = smtplib.SMTP(self.mail.server, self.mail.port, timeout=timeout)
        host.set_debuglevel(int(self.mail.debug))
        if self.mail.use_tls:
            host.starttls(context=context)
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


def _tls_context(config) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=config.get("MAIL_SSL_CAFILE") or None)
    if not config.get("MAIL_SSL_VERIFY", True):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class SmtpTransport:
    """One SMTP connection, opened on first use and kept for the whole run."""

    def __init__(self, app: Flask):
        # Built from the current config, not the one create_app saw, so settings changed
        # later (instance config, tests) apply; the connection is Flask-Mail's.
        self.state = mail.init_mail(app.config, app.debug, app.testing)
        self.connection: SmtpConnection | None = None

    def send(self, message: OutgoingMessage, outbox_id: int, kind: str) -> None:
        if self.connection is None:
            try:
                self.connection = SmtpConnection(self.state).__enter__()
            except (OSError, smtplib.SMTPException) as error:
                raise TransportDown(f"{type(error).__name__}: {error}") from error
        self.connection.send(message)

    def reset(self) -> None:
        """Forget a connection that may be broken; the next send opens a new one."""
        connection, self.connection = self.connection, None
        if connection is not None and connection.host is not None:
            with contextlib.suppress(OSError):
                connection.host.close()

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                connection.__exit__(None, None, None)
            except (OSError, smtplib.SMTPException):
                log.info("closing the SMTP connection failed", exc_info=True)


class EmlTransport:
    """No MAIL_SERVER: each message becomes instance/mail/<outbox id>-<kind>.eml.

    Named by the outbox row, so delivering a message again overwrites the same file: in
    this mode delivery is exactly once. Written to a temporary file and renamed, so a reader
    never sees half a message.
    """

    def __init__(self, app: Flask):
        self.directory = Path(app.config.get("MAIL_EML_DIR") or Path(app.instance_path) / "mail")

    def send(self, message: OutgoingMessage, outbox_id: int, kind: str) -> None:
        if message.has_bad_headers():
            raise flask_mail.BadHeaderError
        if message.date is None:
            message.date = time.time()
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{outbox_id:08d}-{one_line(kind).replace(' ', '_')}.eml"
        handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            out.write(message.as_bytes())
        os.replace(temporary, target)
        flask_mail.email_dispatched.send(current_app._get_current_object(), message=message)

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


def open_transport(app: Flask) -> SmtpTransport | EmlTransport:
    return SmtpTransport(app) if app.config.get("MAIL_SERVER") else EmlTransport(app)
