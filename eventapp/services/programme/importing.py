"""Importing a programme from CSV or ICS: parse, check every row, then write all or nothing.

The same `import_programme` call serves the dry run and the real import: it creates rooms
and sessions through programme/schedule/ (so the same rules and conflict checks apply,
also between rows of the same file) and reports per row what is wrong or clashes. The
caller rolls back after a dry run, and commits a real run only when `report.can_commit`.

CSV: a header row with title, kind, start, end, room, capacity, speakers (description
optional), comma, semicolon or tab separated, UTF-8 (with or without BOM) or Windows-1252;
title_en, description_nl, room_en: a text in one language (the event's, or its other one).
Times are local to the event ("2027-03-18 09:30", "18-03-2027 09:30"; end may be "10:30").
Speakers are separated by ";" or "|". A room that doesn't exist yet is created with the
row's capacity.

ICS: one VEVENT per session: SUMMARY, DTSTART, DTEND or DURATION (added in absolute time),
LOCATION (room), DESCRIPTION, CATEGORIES (plenary, workshop, other/break), ATTENDEE;CN=...
(speakers: people only, not rooms or resources, not the organiser, not a bare address) and
X-CAPACITY. All-day events and repeating ones (RRULE, RDATE, or one changed date of them,
RECURRENCE-ID) are refused with a message; cancelled ones are skipped. Floating times are
read in the file's X-WR-TIMEZONE when it names a known zone, else in the event's (the fold's
first pass, as with a TZID); a TZID nobody knows is read as the event's local time, with a
warning in the dry run.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from icalendar import Calendar
from sqlalchemy import select

from ...extensions import db
from ...models import Event, EventSession, Organiser, Room
from .. import audit
from ..errors import Conflict, DomainError, InvalidInput
from . import schedule
from .conflicts import UNKNOWN_TIMEZONE, ConflictItem
from .ics_times import duration_end, file_moment, floating_times, zone_or_none

MAX_ROWS = 2000
COLUMNS = ("title", "kind", "start", "end", "room", "capacity", "speakers")
ALIASES = {
    "starts_at": "start",
    "ends_at": "end",
    "begin": "start",
    "einde": "end",
    "titel": "title",
    "soort": "kind",
    "zaal": "room",
    "capaciteit": "capacity",
    "sprekers": "speakers",
    "speaker": "speakers",
    "omschrijving": "description",
}
KIND_WORDS = {
    "plenary": "plenary",
    "plenair": "plenary",
    "workshop": "workshop",
    "other": "other",
    "break": "other",
    "pauze": "other",
}
LOCAL_FORMATS = ("%d-%m-%Y %H:%M", "%d/%m/%Y %H:%M", "%Y/%m/%d %H:%M", "%d-%m-%Y %H:%M:%S")
TIME_ONLY = re.compile(r"^\d{1,2}:\d{2}$")
IN_LANGUAGE = re.compile(r"^(title|description|room)_(nl|en)$")  # title_en: the English title


@dataclass
class ImportRow:
    """One session as read from the file, its values still as given."""

    line: int
    title: object = ""
    kind: object = ""
    start: object = ""
    end: object = ""
    room: str = ""
    capacity: object = ""
    speakers: list[str] = field(default_factory=list)
    description: str = ""
    in_languages: dict[str, str] = field(default_factory=dict)  # {"title_en": ...}
    warnings: list[str] = field(default_factory=list)  # shown in the dry run, need confirming
    uid: str = ""  # an ICS event's UID: a second import of it updates, not duplicates
    floating: bool = False  # ICS times with no zone: the event's, read by _floating_times


@dataclass
class RowProblem:
    line: int
    field: str
    message: str


@dataclass
class ImportReport:
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowProblem] = field(default_factory=list)
    conflicts: list[tuple[int, ConflictItem]] = field(default_factory=list)
    sessions_created: int = 0
    sessions_updated: int = 0
    rooms_created: list[str] = field(default_factory=list)

    @property
    def hard_conflicts(self) -> list[tuple[int, ConflictItem]]:
        return [(line, c) for line, c in self.conflicts if c.is_hard]

    @property
    def warnings(self) -> list[tuple[int, ConflictItem]]:
        return [(line, c) for line, c in self.conflicts if not c.is_hard]

    def can_commit(self, *, confirm: bool) -> bool:
        if self.errors or self.hard_conflicts or not self.rows:
            return False
        return confirm or not self.warnings

    def to_dict(self) -> dict:
        return {
            "rows": len(self.rows),
            "sessions_created": self.sessions_created,
            "sessions_updated": self.sessions_updated,
            "rooms_created": self.rooms_created,
            "errors": [vars(p) for p in self.errors],
            "conflicts": [{"line": line, **c.to_dict()} for line, c in self.conflicts],
        }


# -- reading files ----------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """UTF-8 (a BOM from Excel is dropped), else Windows-1252 as older Excel writes it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def parse_csv(text: str) -> tuple[list[ImportRow], list[RowProblem]]:
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        return [], [RowProblem(1, "file", _("The file is empty."))]
    delimiter = max(",;\t", key=lines[0].count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        return _read_csv(reader)
    except csv.Error as error:
        # A cell over the csv module's field limit (131,072 characters), a NUL byte: the
        # file is not a programme, and the organiser is told which line, not shown a 500.
        why = _("This line cannot be read: %(why)s.", why=str(error))
        return [], [RowProblem(max(reader.line_num, 1), "file", why)]


def _read_csv(reader) -> tuple[list[ImportRow], list[RowProblem]]:
    header = [_column(name) for name in next(reader)]
    missing = sorted({"end", "start", "title"} - {IN_LANGUAGE.sub(r"\1", c) for c in header})
    if missing:
        return [], [
            RowProblem(
                1,
                "header",
                _(
                    "Missing columns: %(columns)s. Expected: %(expected)s.",
                    columns=", ".join(missing),
                    expected=", ".join(COLUMNS),
                ),
            )
        ]
    rows, problems = [], []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(rows) >= MAX_ROWS:
            problems.append(RowProblem(number, "file", _("At most %(n)d rows.", n=MAX_ROWS)))
            break
        cells = dict(zip(header, (v.strip() for v in values), strict=False))
        rows.append(
            ImportRow(
                line=number,
                title=cells.get("title", ""),
                kind=cells.get("kind", ""),
                start=cells.get("start", ""),
                end=cells.get("end", ""),
                room=cells.get("room", ""),
                capacity=cells.get("capacity", ""),
                speakers=split_speakers(cells.get("speakers", "")),
                description=cells.get("description", ""),
                in_languages={k: v for k, v in cells.items() if IN_LANGUAGE.match(k)},
            )
        )
    return rows, problems


def _column(name: str) -> str:
    key = name.strip().lower().lstrip("\ufeff")
    return ALIASES.get(key, key)


def split_speakers(text: str) -> list[str]:
    return [name.strip() for name in re.split(r"[;|]", text or "") if name.strip()]


def parse_ics(text: str) -> tuple[list[ImportRow], list[RowProblem]]:

    try:
        calendar = Calendar.from_ical(text)
    except (ValueError, IndexError, KeyError) as error:
        return [], [RowProblem(1, "file", _("Not a calendar file: %(error)s", error=str(error)))]
    rows, problems = [], []
    floating_zone = zone_or_none(str(calendar.get("X-WR-TIMEZONE", "")).strip())
    for number, component in enumerate(calendar.walk("VEVENT"), start=1):
        if len(rows) >= MAX_ROWS:
            problems.append(RowProblem(number, "file", _("At most %(n)d rows.", n=MAX_ROWS)))
            break
        if str(component.get("STATUS", "")).upper() == "CANCELLED":
            continue
        refusal = _repeating(component)
        if refusal:
            problems.append(RowProblem(number, "start", refusal))
            continue
        row = _row_from_vevent(number, component, problems, floating_zone)
        if row is not None:
            rows.append(row)
    if not rows and not problems:
        problems.append(RowProblem(1, "file", _("The calendar holds no events.")))
    return rows, problems


def _repeating(component) -> str | None:
    """Why a repeating event (or one changed date of one) is refused, or None."""
    if component.get("RRULE") is not None or component.get("RDATE") is not None:
        return _("Repeating events can't be imported: give each date its own event.")
    if component.get("RECURRENCE-ID") is not None:
        return _(
            "This is a change to one date of a repeating event, which can't be imported: "
            "give each date its own event."
        )
    return None


def _speakers(component) -> list[str]:
    """The people among the ATTENDEEs: Google lists every invitee, rooms as CUTYPE=RESOURCE
    or ROOM, the organiser themself, and people by bare address; only named individuals who
    are not the organiser are speakers."""
    organiser = str(component.get("ORGANIZER", "")).lower()
    names = []
    for attendee in _as_list(component.get("ATTENDEE")):
        params = getattr(attendee, "params", {})
        name = str(params.get("CN", "")).strip()
        kind = str(params.get("CUTYPE", "INDIVIDUAL")).upper()
        if kind != "INDIVIDUAL" or not name or "@" in name:
            continue
        if organiser and str(attendee).lower() == organiser:
            continue
        if name not in names:
            names.append(name)
    return names


def _row_from_vevent(
    number: int, component, problems: list[RowProblem], floating_zone=None
) -> ImportRow | None:
    warnings: list[str] = []
    start = file_moment(component, "DTSTART", floating_zone, warnings)
    if start is None:
        problems.append(RowProblem(number, "start", _("The event has no start.")))
        return None
    if isinstance(start, date) and not isinstance(start, datetime):
        problems.append(RowProblem(number, "start", _("All-day events can't be imported.")))
        return None
    end = file_moment(component, "DTEND", floating_zone, warnings)
    duration = component.decoded("DURATION", None)
    if end is None and isinstance(duration, timedelta):  # kept as such after a floating start
        end = duration_end(start, duration) if start.tzinfo else duration
    if end is None:
        problems.append(RowProblem(number, "end", _("The event has no end.")))
        return None
    categories = []
    for value in _as_list(component.get("CATEGORIES")):
        categories += [str(c).strip().lower() for c in getattr(value, "cats", [value])]
    kind = next((KIND_WORDS[c] for c in categories if c in KIND_WORDS), "workshop")
    return ImportRow(
        line=number,
        title=str(component.get("SUMMARY", "")).strip(),
        kind=kind,
        start=start,
        end=end,
        room=str(component.get("LOCATION", "")).strip(),
        capacity=str(component.get("X-CAPACITY", "")).strip(),
        speakers=_speakers(component),
        description=str(component.get("DESCRIPTION", "")).strip(),
        warnings=list(dict.fromkeys(warnings)),
        uid=str(component.get("UID", "")).strip()[:255],
        floating=start.tzinfo is None,
    )


def _as_list(value) -> list:
    return [] if value is None else value if isinstance(value, list) else [value]


def parse(filename: str, text: str) -> tuple[list[ImportRow], list[RowProblem]]:
    """By the file's name or, failing that, its content."""
    name = (filename or "").lower()
    if name.endswith((".ics", ".ical", ".ifb")) or text.lstrip().startswith("BEGIN:VCALENDAR"):
        return parse_ics(text)
    return parse_csv(text)


# -- importing --------------------------------------------------------------------------------


def import_programme(
    actor: Organiser | None,
    event: Event,
    rows: list[ImportRow],
    now: datetime,
    *,
    problems: list[RowProblem] | None = None,
) -> ImportReport:
    """Create every row's session (and any new room), collecting all errors and conflicts.

    Writes go to the open transaction (each row in a savepoint, so one bad row doesn't
    hide the others); the caller rolls back a dry run, or a report that can't commit.
    """
    report = ImportReport(rows=rows, errors=list(problems or []))
    for row in rows:
        _import_row(actor, event, row, now, report)
    if report.sessions_created:
        audit.record(
            actor,
            "programme.imported",
            event,
            None,
            {"sessions": report.sessions_created, "rooms": report.rooms_created},
            now=now,
        )
    return report


def _import_row(actor, event: Event, row: ImportRow, now: datetime, report: ImportReport):
    new_rooms: list[str] = []
    existing = _imported_before(event, row.uid)
    try:
        with db.session.begin_nested():
            data = _session_data(actor, event, row, now, new_rooms)
            if existing is not None:
                change = schedule.update_session(actor, existing, data, now, confirm=True)
            else:
                change = schedule.create_session(actor, event, data, now, confirm=True)
                change.session.import_uid = row.uid or None
                db.session.flush()
    except DomainError as error:
        db.session.expire(event, ["rooms"])  # a room made for this row is gone again
        _report_error(row, error, report)
        return
    if existing is not None:
        report.sessions_updated += 1
    else:
        report.sessions_created += 1
    report.rooms_created += new_rooms
    report.conflicts += [(row.line, c) for c in change.warnings]
    report.conflicts += [(row.line, ConflictItem(UNKNOWN_TIMEZONE, w)) for w in row.warnings]


def _imported_before(event: Event, uid: str) -> EventSession | None:
    """The session an earlier import made from this UID (a re-import updates it)."""
    if not uid:
        return None
    return db.session.scalar(
        select(EventSession).where(
            EventSession.event_id == event.id, EventSession.import_uid == uid
        )
    )


def _report_error(row: ImportRow, error: DomainError, report: ImportReport) -> None:
    if isinstance(error, Conflict):
        report.conflicts += [(row.line, _item(c)) for c in error.details.get("conflicts", [])]
    elif isinstance(error, InvalidInput):
        for name, reasons in error.fields.items():
            report.errors += [RowProblem(row.line, _field_name(name), r) for r in reasons]
    else:
        report.errors.append(RowProblem(row.line, "row", error.message))


def _field_name(name: str) -> str:
    return {"starts_at": "start", "ends_at": "end", "room_id": "room"}.get(name, name)


def _item(data: dict) -> ConflictItem:
    extra = {k: v for k, v in data.items() if k not in ("kind", "severity", "message", "sessions")}
    return ConflictItem(data["kind"], data["message"], data["sessions"], extra)


def _in_languages(event: Event, row: ImportRow, name: str) -> tuple[str, str]:
    """The row's text in the event's language (title, title_nl) and in its other (title_en)."""
    main = getattr(row, name) or row.in_languages.get(f"{name}_{event.default_locale}", "")
    return main, row.in_languages.get(f"{name}_{event.translated_locale}", "")


def _session_data(actor, event: Event, row: ImportRow, now: datetime, new_rooms: list[str]):
    title = _in_languages(event, row, "title")
    description = _in_languages(event, row, "description")
    data = {
        "title": title[0],
        "kind": KIND_WORDS.get(str(row.kind).strip().lower(), row.kind) or "workshop",
        "starts_at": _when(row.start, event),
        "ends_at": _end(row.end, row.start, event),
        "speakers": row.speakers,
        "description": description[0],
    }
    if row.floating:
        data["starts_at"], data["ends_at"] = floating_times(row, event)
    if title[1] or description[1]:  # given in the other language (an ICS re-import keeps those)
        data.update(title_translated=title[1], description_translated=description[1])
    if str(row.capacity).strip():
        data["capacity"] = str(row.capacity).strip()
    names = _in_languages(event, row, "room")
    if names[0]:
        data["room_id"] = _room(actor, event, row, names, now, new_rooms).id
    return data


def _room(actor, event: Event, row: ImportRow, names, now: datetime, new_rooms) -> Room:
    """The event's room of that name (any case), or a new one holding the row's capacity."""
    name, translated = names
    for room in event.rooms:
        if room.name.casefold() == name.casefold():
            return room
    if not str(row.capacity).strip():
        message = _("New room “%(room)s”: give the row a capacity.", room=name)
        raise InvalidInput(message, {"capacity": [message]})
    values = {"name": name, "name_translated": translated, "capacity": row.capacity}
    room = schedule.create_room(actor, event, values, now)
    db.session.refresh(event, ["rooms"])
    new_rooms.append(room.name)
    return room


def _when(value, event: Event):
    """Datetimes from an ICS pass through; text is read as the event's local time."""
    if isinstance(value, datetime):
        return value
    text = str(value).strip()
    for fmt in LOCAL_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return text  # ISO 8601, or an error from the session rules


def _end(end, start, event: Event):
    """An end given as a time only ("10:30") is on the start's day."""
    if isinstance(end, str) and TIME_ONLY.match(end.strip()):
        begin = _when(start, event)
        if isinstance(begin, str):
            try:
                begin = datetime.fromisoformat(begin)
            except ValueError:
                return end
        hours, minutes = map(int, end.strip().split(":"))
        if hours > 23 or minutes > 59:
            return end
        return begin.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    return _when(end, event)
