"""Attendee lists as CSV files that Excel opens correctly, and that cannot run formulas.

Choices, for the organisers who open these in Excel:
- UTF-8 with a byte-order mark: without the BOM Excel reads the file in the system's legacy
  code page and "Ëlise Müller" becomes "Ã‹lise MÃ¼ller".
- `;` between fields by default: Excel splits a double-clicked .csv on the list separator of
  the Windows region, which is `;` in the Netherlands and most of Europe, where this event's
  organisers work. `,` is offered for English/US settings (`delimiter=","`). We don't write a
  `sep=;` first line: Excel then ignores the BOM and the accents break again.
- CRLF line ends and RFC 4180 quoting (the csv module's "excel" dialect), so a newline or a
  separator inside a value stays inside its cell.
- Formula injection (CSV injection) neutralised: a text cell starting with = + - @, a tab or
  a carriage return gets a leading apostrophe, so Excel, LibreOffice and Google Sheets show
  it as text instead of evaluating "=cmd|' /C calc'!A0". Times are written in the event's
  timezone as "YYYY-MM-DD HH:MM", which Excel reads as a date.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ...extensions import db
from ...models import Attendee, Event, EventSession, Registration
from .attendees import AttendeeFilter, attendee_query, event_sessions

BOM = "\ufeff"
DELIMITERS = {"semicolon": ";", "comma": ","}
DEFAULT_DELIMITER = ";"
# Characters that make a spreadsheet treat a cell as a formula (OWASP's list).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A cell value safe to open in a spreadsheet: text that could start a formula is
    prefixed with an apostrophe. Numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def to_csv(header: list[str], rows: Iterable[Iterable[object]], delimiter: str = ";") -> bytes:
    """The whole file as bytes: BOM, header, rows; every cell neutralised."""
    if delimiter not in DELIMITERS.values():
        raise ValueError(f"unsupported delimiter {delimiter!r}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, dialect="excel", delimiter=delimiter)
    writer.writerow([neutralise(cell) for cell in header])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return (BOM + buffer.getvalue()).encode("utf-8")


def _local(event: Event, instant: datetime | None) -> str:
    return event.local(instant).strftime("%Y-%m-%d %H:%M") if instant else ""


def _session_label(event: Event, session: EventSession) -> str:
    return f"{_local(event, session.starts_at)[-5:]} {session.title}"


def attendees_csv(
    event: Event, wanted: AttendeeFilter | None = None, delimiter: str = ";"
) -> bytes:
    """The event's attendees (those the filter matches), one row each, with their sessions."""
    sessions = {s.id: s for s in event_sessions(event)}
    attendees = db.session.scalars(attendee_query(event, wanted or AttendeeFilter())).all()
    # One query for every registration of the event (a selectinload would batch the
    # attendees 500 at a time: more queries for more attendees).
    held: dict[int, dict[str, list[EventSession]]] = {}
    for attendee_id, session_id, status in db.session.execute(
        select(Registration.attendee_id, Registration.session_id, Registration.status)
        .join(Attendee, Attendee.id == Registration.attendee_id)
        .where(Attendee.event_id == event.id, Registration.is_active)
    ):
        held.setdefault(attendee_id, {}).setdefault(status, []).append(sessions[session_id])
    header = [
        _("Reference"),
        _("Name"),
        _("Email"),
        _("Organisation"),
        _("Job role"),
        _("Language"),
        _("Status"),
        _("Registered at"),
        _("Checked in at"),
        _("Confirmed sessions"),
        _("Waiting lists"),
    ]

    def row(attendee: Attendee) -> list[object]:
        def sessions_with(*statuses: str) -> str:
            mine = held.get(attendee.id, {})
            chosen = sorted(
                ((s, status) for status in statuses for s in mine.get(status, [])),
                key=lambda pair: (pair[0].starts_at, pair[0].id),
            )
            return " | ".join(
                _session_label(event, s) + (f" ({_('offer')})" if status == "offered" else "")
                for s, status in chosen
            )

        return [
            attendee.reference,
            attendee.name,
            attendee.email,
            attendee.organisation,
            attendee.job_role,
            attendee.locale,
            attendee.status,
            _local(event, attendee.created_at),
            _local(event, attendee.checked_in_at),
            sessions_with(*Registration.SEAT_HOLDING),
            sessions_with("waitlisted"),
        ]

    return to_csv(header, (row(a) for a in attendees), delimiter)


def session_csv(session: EventSession, delimiter: str = ";") -> bytes:
    """One session's list for the door or the speaker: confirmed first, then the waiting
    list in order, with positions."""
    event = session.event
    registrations = db.session.scalars(
        select(Registration)
        .join(Attendee, Attendee.id == Registration.attendee_id)
        .where(
            Registration.session_id == session.id,
            Registration.is_active,
            Attendee.status == "active",
        )
        .options(joinedload(Registration.attendee))
        .order_by(Registration.waitlisted_at, Registration.id)
    ).all()
    confirmed = sorted(
        (r for r in registrations if r.holds_seat),
        key=lambda r: (r.attendee.name.lower(), r.attendee.id),
    )
    waiting = [r for r in registrations if r.status == "waitlisted"]
    header = [
        _("Reference"),
        _("Name"),
        _("Email"),
        _("Organisation"),
        _("Status"),
        _("Waiting list position"),
        _("Checked in at"),
    ]
    rows = [
        [
            r.attendee.reference,
            r.attendee.name,
            r.attendee.email,
            r.attendee.organisation,
            r.status,
            position or "",
            _local(event, r.checked_in_at),
        ]
        for position, r in [(None, r) for r in confirmed] + list(enumerate(waiting, start=1))
    ]
    return to_csv(header, rows, delimiter)


def filename(event: Event, what: str) -> str:
    """A download name that is safe in a Content-Disposition header on every system."""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in f"{event.slug}-{what}")
    return f"{safe}.csv"
