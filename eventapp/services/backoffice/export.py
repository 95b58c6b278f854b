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
from dataclasses import dataclass
from datetime import datetime

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ...extensions import db
from ...i18n import in_reader_language
from ...models import Attendee, Event, EventSession, Registration
from ..programme.reading import Round, workshop_rounds
from ..registration.answers import answer_text, event_answers
from ..registration.questions import questions_of
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
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
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


def _local_time(event: Event, instant: datetime | None) -> datetime | None:
    """The event's wall-clock time without its zone: what a spreadsheet shows as a date."""
    return event.local(instant).replace(tzinfo=None, second=0, microsecond=0) if instant else None


def _session_label(event: Event, session: EventSession) -> str:
    return f"{_local(event, session.starts_at)[-5:]} {_title(session)}"


def _title(session: EventSession) -> str:
    """The session's title in the reader's language: an English export of a Dutch event
    names its sessions in English where the organiser gave them an English title."""
    return in_reader_language(session, "title")


@dataclass
class Table:
    """One export as a spreadsheet sees it: a title, a header and rows of plain values.

    Values are text, numbers, or naive local datetimes (the event's wall-clock time), so CSV
    writes them as text and XLSX as real dates. Each format neutralises formulas its own way.
    """

    title: str
    header: list[str]
    rows: list[list[object]]
    heading: str = ""  # printed on top of every page: which session a room host holds


def session_heading(session: EventSession) -> str:
    """ "Small workshop · 2027-03-18 11:30–12:30 · Studio": what a printed list is of."""
    event = session.event
    start, end = event.local(session.starts_at), event.local(session.ends_at)
    when = f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
    return " · ".join(
        part for part in (_title(session), when, in_reader_language(session.room, "name")) if part
    )


def attendee_status_label(status: str) -> str:
    """An attendee's status in the reader's language, never the raw database value."""
    labels = {"active": _("registered"), "cancelled": _("cancelled")}
    return labels.get(status, status)


def registration_status_label(status: str) -> str:
    labels = {
        "confirmed": _("confirmed"),
        "offered": _("offered a place"),
        "waitlisted": _("on the waiting list"),
        "cancelled": _("cancelled"),
    }
    return labels.get(status, status)


def _held_sessions(event: Event, sessions: dict[int, EventSession]) -> dict[int, dict]:
    """Every active registration of the event, by attendee and status, in one query (a
    selectinload would batch the attendees 500 at a time: more queries for more attendees)."""
    held: dict[int, dict[str, list[EventSession]]] = {}
    for attendee_id, session_id, status in db.session.execute(
        select(Registration.attendee_id, Registration.session_id, Registration.status)
        .join(Attendee, Attendee.id == Registration.attendee_id)
        .where(Attendee.event_id == event.id, Registration.is_active)
    ):
        held.setdefault(attendee_id, {}).setdefault(status, []).append(sessions[session_id])
    return held


def _round_cell(event: Event, mine: dict[str, list[EventSession]], round_: Round) -> str:
    """What the attendee has in one round: the workshop, marked when it is only an offer or a
    waiting-list place."""
    marks = {"confirmed": "", "offered": f" ({_('offer')})", "waitlisted": f" ({_('waiting')})"}
    in_round = {s.id for s in round_.sessions}
    return " | ".join(
        _title(s) + mark
        for status, mark in marks.items()
        for s in mine.get(status, [])
        if s.id in in_round
    )


def _question_header(question, locale: str) -> str:
    text = question.text(locale)
    return text if question.archived_at is None else _("%(question)s (archived)", question=text)


def attendee_table(event: Event, wanted: AttendeeFilter | None = None) -> Table:
    """The event's attendees (those the filter matches), one row each: who they are, their
    check-in code, their sessions, one column per workshop round and one per registration
    question (headed and answered in the reader's language)."""
    locale = str(get_locale())
    questions = questions_of(event, archived=True)
    questions.sort(key=lambda q: q.archived_at is not None)
    given = event_answers(event) if questions else {}
    sessions = {s.id: s for s in event_sessions(event)}
    rounds = workshop_rounds(sessions.values())
    attendees = db.session.scalars(attendee_query(event, wanted or AttendeeFilter())).all()
    held = _held_sessions(event, sessions)
    header = (
        [
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
            _("Check-in code"),
        ]
        + [
            _("Round %(number)d (%(time)s)", number=n, time=_local(event, r.starts_at)[-5:])
            for n, r in enumerate(rounds, start=1)
        ]
        + [_question_header(q, locale) for q in questions]
    )

    def sessions_with(mine: dict, *statuses: str) -> str:
        chosen = sorted(
            ((s, status) for status in statuses for s in mine.get(status, [])),
            key=lambda pair: (pair[0].starts_at, pair[0].id),
        )
        return " | ".join(
            _session_label(event, s) + (f" ({_('offer')})" if status == "offered" else "")
            for s, status in chosen
        )

    def row(attendee: Attendee) -> list[object]:
        mine = held.get(attendee.id, {})
        theirs = given.get(attendee.id, {})
        return (
            [
                attendee.reference,
                attendee.name,
                attendee.email,
                attendee.organisation,
                attendee.job_role,
                attendee.locale,
                attendee_status_label(attendee.status),
                _local_time(event, attendee.created_at),
                _local_time(event, attendee.checked_in_at),
                sessions_with(mine, *Registration.SEAT_HOLDING),
                sessions_with(mine, "waitlisted"),
                attendee.checkin_code,
            ]
            + [_round_cell(event, mine, r) for r in rounds]
            + [answer_text(q, theirs.get(q.id), locale) for q in questions]
        )

    return Table(_("Attendees"), header, [row(a) for a in attendees])


def session_table(session: EventSession) -> Table:
    """One session's list for the room host or the speaker: confirmed first (by name), then
    the waiting list in order, with positions, and an empty column to tick at the door."""
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
        _("Check-in code"),
    ]
    rows = [
        [
            r.attendee.reference,
            r.attendee.name,
            r.attendee.email,
            r.attendee.organisation,
            registration_status_label(r.status),
            position or "",
            _local_time(event, r.checked_in_at),
            r.attendee.checkin_code,
        ]
        for position, r in [(None, r) for r in confirmed] + list(enumerate(waiting, start=1))
    ]
    return Table(_title(session), header, rows, heading=session_heading(session))


def attendees_csv(
    event: Event, wanted: AttendeeFilter | None = None, delimiter: str = ";"
) -> bytes:
    table = attendee_table(event, wanted)
    return to_csv(table.header, table.rows, delimiter)


def session_csv(session: EventSession, delimiter: str = ";") -> bytes:
    table = session_table(session)
    return to_csv(table.header, table.rows, delimiter)


def filename(event: Event, what: str) -> str:
    """A download name (without extension) safe in a Content-Disposition header anywhere."""
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in f"{event.slug}-{what}")
