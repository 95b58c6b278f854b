"""The MIME layout rules of docs/CALENDAR.md ("In the email"), asserted on received emails.

    multipart/mixed
      [multipart/related [ ... ] | multipart/alternative [text/plain, text/html,
                                                          text/calendar; method=X]]
      text/calendar; method=X attachment (the same object), PUBLISH attachments

No parser checks these; Outlook applies an invitation only in this shape (MS-OXCMAIL
2.1.3.3.8), and Gmail, Apple Mail and Thunderbird apply it too.
"""

from __future__ import annotations

import re

ITIP = ("REQUEST", "CANCEL")


def leaves(message):
    return [p for p in message.walk() if not p.is_multipart()]


def body_alternative(message):
    """The multipart/alternative that is the message body: the first child of the top-level
    multipart/mixed, or inside a multipart/related that is."""
    node = message
    if node.get_content_type() == "multipart/mixed":
        node = next(node.iter_parts())
    if node.get_content_type() == "multipart/related":
        node = next(node.iter_parts())
    assert node.get_content_type() == "multipart/alternative", "the body is no alternative"
    return node


def calendar_method(data: bytes) -> str:
    text = data.decode("utf-8")
    [method] = re.findall(r"^METHOD:(.*)\r$", text, flags=re.MULTILINE)
    return method


def check_layout(message):
    """Assert the rules; return the one iTIP part inside the body (or None) and the calendar
    attachments as (method, bytes)."""
    alternative = body_alternative(message)
    kinds = [p.get_content_type() for p in alternative.iter_parts()]
    assert kinds[:2] == ["text/plain", "text/html"], kinds
    inline = [p for p in alternative.iter_parts() if p.get_content_type() == "text/calendar"]
    assert len(inline) <= 1, "two calendar objects in one multipart/alternative"
    calendars = [p for p in leaves(message) if p.get_content_type() == "text/calendar"]
    attachments = [p for p in calendars if p.get_content_disposition() == "attachment"]
    for part in calendars:
        data = part.get_payload(decode=True)
        assert part.get_param("method") == calendar_method(data), "MIME method != METHOD"
        assert part.get_param("charset").upper() == "UTF-8"
        assert part["Content-Transfer-Encoding"] in ("base64", "quoted-printable")
    itip_attachments = [p for p in attachments if p.get_param("method") in ITIP]
    if inline:
        [part] = inline
        assert part.get_param("method") in ITIP
        assert part.get_content_disposition() is None
        assert [p.get_payload(decode=True) for p in itip_attachments] == [
            part.get_payload(decode=True)
        ], "the iTIP object is attached once more, unchanged"
    else:
        assert itip_attachments == [], "an iTIP object only as an attachment is just a file"
    return (inline[0] if inline else None), [
        (p.get_param("method"), p.get_payload(decode=True)) for p in attachments
    ]


def itip(message):
    """The iTIP part of the message (checked), or None."""
    return check_layout(message)[0]


def itip_data(message) -> bytes | None:
    part = itip(message)
    return part.get_payload(decode=True) if part is not None else None


def publish_files(message) -> list[bytes]:
    return [data for method, data in check_layout(message)[1] if method == "PUBLISH"]
