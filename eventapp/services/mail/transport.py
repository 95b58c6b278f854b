"""Composing a rendered message as MIME; delivery.py sends it (SMTP) or writes it (.eml).

`OutgoingMessage` holds what an email says; `compose()` builds it as the standard library's
`email.message.EmailMessage` (no mail library's private internals). The MIME tree is the one
Outlook, Gmail, Apple Mail and Thunderbird all apply as an invitation (docs/CALENDAR.md,
"In the email"; it is how Google and Thunderbird send their own):

    multipart/mixed
      multipart/related            (only when there are inline images, e.g. the QR code)
        multipart/alternative
          text/plain; charset=utf-8   quoted-printable
          text/html; charset=utf-8    quoted-printable
          text/calendar; method=X; charset=UTF-8   base64: the one iTIP object, if any
        image/png                  Content-ID, inline
      text/calendar; method=X      attachment: the same iTIP object again, as invite.ics
      text/calendar; method=PUBLISH  attachment: a file to add (a schedule), if any

An email carries at most one iTIP object (REQUEST or CANCEL). A change that must reach
several of an attendee's calendar events sends the others as `followers`: short emails in
the same thread, one iTIP object each, sent right after the message itself.

Bodies are quoted-printable and calendar data base64, so the message is 7-bit clean for
servers without 8BITMIME. Header values that come from people (a name, a session title in a
subject) go through `one_line()`, so a CR or LF can never start a new header; EmailMessage
refuses one anyway, which becomes Flask-Mail's BadHeaderError (a permanent failure).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from email import policy as email_policy
from email.header import Header
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import flask_mail
import idna

log = logging.getLogger(__name__)


def one_line(value: str | None) -> str:
    """A header-safe version of text from people: every control character becomes a space."""
    if not value:
        return ""
    cleaned = "".join(
        " " if (ord(ch) < 32 or ord(ch) == 127 or ch in "\u2028\u2029\x85") else ch
        for ch in str(value)
    )
    return " ".join(cleaned.split())


# Characters with a meaning in an address list. A display name holding them, once decoded by
# a reader, could read as a second address (`Eve <evil@example.org>, x`): they become spaces.
_ADDRESS_SPECIALS = re.compile(r'[<>@,;:"\\()\[\]]|=\?')


def display_name(value: str | None) -> str:
    """A person's name made safe as an address's display name: one line, no specials."""
    return one_line(_ADDRESS_SPECIALS.sub(" ", one_line(value)))


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
    session_id: int | None = None  # the session an iTIP object is about


Recipient = str | tuple[str, str]  # "ada@example.org" or ("Ada Lovelace", "ada@example.org")


@dataclass
class OutgoingMessage:
    """What one email says; `compose()` turns it into MIME."""

    subject: str
    recipients: list[Recipient]
    sender: Recipient
    body: str = ""
    html: str | None = None
    reply_to: str | None = None
    itip: CalendarPart | None = None  # REQUEST or CANCEL: in the body, and attached
    calendar_parts: list[CalendarPart] = field(default_factory=list)  # attachments only
    inline_images: list[InlineImage] = field(default_factory=list)
    message_id: str | None = None
    in_reply_to: str | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)
    date: float | None = None  # seconds since the epoch; None: when it is sent
    followers: list[OutgoingMessage] = field(default_factory=list)

    def __post_init__(self):
        if self.itip is not None and self.itip.method not in ("REQUEST", "CANCEL"):
            raise ValueError(f"not an iTIP method for an invitation: {self.itip.method}")

    @property
    def all_messages(self) -> list[OutgoingMessage]:
        """This email and the calendar-only ones that follow it, in sending order."""
        return [self, *self.followers]

    @property
    def envelope_sender(self) -> str:
        return _address(self.sender).addr_spec

    @property
    def envelope_recipients(self) -> list[str]:
        return [_address(r).addr_spec for r in self.recipients]

    def as_bytes(self) -> bytes:
        return compose(self).as_bytes()


def compose(message: OutgoingMessage) -> EmailMessage:
    """The email as MIME, with CRLF line ends (policy SMTP), ready for SMTP or a file."""
    try:
        return _compose(message)
    except ValueError as error:  # a header with a line break, an address that is none
        raise flask_mail.BadHeaderError(str(error)) from error


def _compose(message: OutgoingMessage) -> EmailMessage:
    root = _body(message)
    if message.inline_images:
        root = _related(root, message.inline_images)
    attachments = ([message.itip] if message.itip else []) + message.calendar_parts
    if attachments:
        root = _mixed(root, attachments)
    root["Subject"] = one_line(message.subject)
    root["From"] = _address(message.sender)
    root["To"] = [_address(r) for r in message.recipients]
    root["Date"] = formatdate(message.date if message.date is not None else time.time(), True)
    if message.message_id:
        root["Message-ID"] = message.message_id
    if message.in_reply_to:
        root["In-Reply-To"] = message.in_reply_to
        root["References"] = message.in_reply_to
    if message.reply_to:
        root["Reply-To"] = _address(message.reply_to)
    for name, value in message.extra_headers.items():
        root[one_line(name)] = one_line(value)
    if "MIME-Version" not in root:
        root["MIME-Version"] = "1.0"
    return root


class _HeaderClasses(HeaderRegistry):
    """The standard header registry, but each header's class is made once: the standard
    one builds a new class with `type()` for every header of every part (about forty per
    email), a tenth of the cost of composing one (docs/PERFORMANCE.md, "Outbox")."""

    def __init__(self):
        super().__init__()
        self._made: dict[str, type] = {}

    def __getitem__(self, name):
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


class _MailPolicy(email_policy.EmailPolicy):
    """The SMTP policy (CRLF), but a non-ASCII subject is written as encoded words that
    hold its spaces inside them. The standard folding puts a space *between* two encoded
    words, which RFC 2047 (6.2) tells decoders to drop: "Zuid— café" read "Zuid—café" in
    strict clients (issue 17)."""

    def fold(self, name, value):
        if self._as_words(name, value):
            return self._encoded_words(name, str(value))
        return super().fold(name, value)

    def fold_binary(self, name, value):
        if self._as_words(name, value):
            return self._encoded_words(name, str(value)).encode("ascii")
        return super().fold_binary(name, value)

    @staticmethod
    def _as_words(name, value) -> bool:
        return name.lower() == "subject" and not str(value).isascii()

    def _encoded_words(self, name: str, value: str) -> str:
        words = Header(value, "utf-8", header_name=name).encode(
            linesep=self.linesep, maxlinelen=self.max_line_length
        )
        return f"{name}: {words}{self.linesep}"


_POLICY = _MailPolicy(linesep="\r\n", header_factory=_HeaderClasses())


def _new_part() -> EmailMessage:
    return EmailMessage(policy=_POLICY)


def _text_part(text: str, subtype: str) -> EmailMessage:
    part = _new_part()
    part.set_content(text, subtype=subtype, charset="utf-8", cte="quoted-printable")
    del part["MIME-Version"]  # only the top-level entity carries it
    return part


def _body(message: OutgoingMessage) -> EmailMessage:
    """multipart/alternative: text/plain, text/html, then the iTIP object if there is one
    (where Outlook looks for it: MS-OXCMAIL 2.1.3.3.8, RFC 6047 2.4)."""
    alternative = _new_part()
    alternative.set_type("multipart/alternative")
    alternative.attach(_text_part(message.body or "", "plain"))
    if message.html is not None:
        alternative.attach(_text_part(message.html, "html"))
    if message.itip is not None:
        alternative.attach(_calendar_part(message.itip, disposition=None))
    return alternative


def _related(body: EmailMessage, images: list[InlineImage]) -> EmailMessage:
    related = _new_part()
    related.set_type("multipart/related")
    related.set_param("type", "multipart/alternative")
    related.attach(body)
    for image in images:
        part = _new_part()
        part.set_content(
            image.data,
            maintype="image",
            subtype=image.subtype,
            disposition="inline",
            filename=image.filename,
            cid=f"<{image.content_id}>",
        )
        del part["MIME-Version"]
        related.attach(part)
    return related


def _mixed(body: EmailMessage, calendars: list[CalendarPart]) -> EmailMessage:
    mixed = _new_part()
    mixed.set_type("multipart/mixed")
    mixed.attach(body)
    for calendar in calendars:
        mixed.attach(calendar_attachment(calendar))
    return mixed


def calendar_attachment(calendar: CalendarPart) -> EmailMessage:
    return _calendar_part(calendar, disposition="attachment")


def _calendar_part(calendar: CalendarPart, *, disposition: str | None) -> EmailMessage:
    part = _new_part()
    part.set_content(
        calendar.data,
        maintype="text",
        subtype="calendar",
        cte="base64",
        disposition=disposition,
        filename=calendar.filename if disposition else None,
        params={"method": calendar.method, "charset": "UTF-8"},
    )
    del part["MIME-Version"]
    return part


def _address(value: Recipient) -> Address:
    """An address header value; the display name made safe, the address checked."""
    if isinstance(value, tuple):
        name, address = value
    else:
        name, address = parseaddr(value)
        if not address:
            raise ValueError(f"not an address: {value!r}")
    address = one_line(address)
    if "@" not in address:
        raise ValueError(f"not an address: {address!r}")
    username, _, domain = address.rpartition("@")
    return Address(
        display_name=display_name(name), username=username, domain=_ascii_domain(username, domain)
    )


def _ascii_domain(username: str, domain: str) -> str:
    """The domain in punycode (IDNA 2008, as email_validator checks it) when the part before
    the @ is ASCII: `jurgen@bücher.example` then needs no SMTPUTF8 (RFC 5890), and the RCPT
    command and the To header stay ASCII. With a non-ASCII local part the message goes out
    with SMTPUTF8 anyway, where a UTF-8 domain is allowed (RFC 6531)."""
    if domain.isascii() or not username.isascii():
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as error:
        raise ValueError(f"not a domain: {domain!r}") from error
