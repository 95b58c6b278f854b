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

import logging
import re
from dataclasses import dataclass
from email import charset as email_charset
from email import policy as email_policy
from email.encoders import encode_base64
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, parseaddr

import flask_mail

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


def format_address(address, encoding: str = "utf-8") -> str:
    """An address for a header: Flask-Mail's (IDN domains in punycode) when the local part is
    ASCII; otherwise the address stays UTF-8 (sent with SMTPUTF8, see delivery.py) and only
    the display name is encoded."""
    name, addr = address if isinstance(address, tuple) else parseaddr(address)
    if addr.rpartition("@")[0].isascii():
        return flask_mail.sanitize_address((name, addr), encoding)
    return f"{Header(name, 'utf-8').encode()} <{addr}>" if name else f"<{addr}>"


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
            format_address(_safe_recipient(r), encoding) for r in self.recipients
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
