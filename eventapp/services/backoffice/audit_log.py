"""The audit log as the organisers read it: who did what, in words, filtered and paged.

The trail (services/audit.py) stores ids, column names, status codes and times in UTC, as
changes write them; this reads a page of it back as sentences: the organiser's, attendee's
or session's name instead of an id, "Starts" instead of starts_at, "On the waiting list"
instead of waitlisted, and times as instants the page shows in the event's time zone. Names
are looked up for the whole page at once (a query per kind of name, not per line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...labels import label
from ...models import Attendee, AuditEntry, Event, EventSession, Room
from ..programme.reading import sessions_of
from .attendees import search_condition

FIELDS = {
    "name": _l("Name"),
    "email": _l("Email"),
    "organisation": _l("Organisation"),
    "job_role": _l("Job role"),
    "locale": _l("Language"),
    "title": _l("Title"),
    "description": _l("Description"),
    "kind": _l("Kind"),
    "starts_at": _l("Starts"),
    "ends_at": _l("Ends"),
    "room_id": _l("Room"),
    "capacity": _l("Capacity"),
    "seats_taken": _l("Seats taken"),
    "status": _l("Status"),
    "speakers": _l("Speakers"),
    "venue": _l("Venue"),
    "slug": _l("Short name in links (slug)"),
    "timezone": _l("Time zone"),
    "registration_opens_at": _l("Registration opens"),
    "registration_closes_at": _l("Registration closes"),
    "session_id": _l("Session"),
    "attendee_id": _l("Attendee"),
    "confirmed": _l("Sessions with a seat"),
    "waitlisted": _l("Waiting lists"),
    "offered": _l("Places offered"),
    "notified": _l("Attendees emailed"),
    "note": _l("Note in the email"),
    "clash_fix": _l("Attendees who would clash"),
    "clashes_fixed": _l("Clashing attendees moved"),
    "sessions_moved": _l("Sessions moved"),
    "sessions_cancelled": _l("Sessions cancelled"),
    "audience_label": _l("To"),
    "subject": _l("Subject"),
    "body": _l("Message"),
    "recipients": _l("Recipients"),
    "at": _l("At"),
    "sessions": _l("Sessions"),
    "rooms": _l("Rooms"),
    "attendees": _l("Attendees"),
    "change": _l("Change"),
    "error": _l("Error"),
    "members": _l("Members"),
    "filter": _l("Filter"),
    "format": _l("Format"),
    "count": _l("Count"),
    "q": _l("Search"),
    "session": _l("Session"),
    "checked_in": _l("Checked in"),
    "sort": _l("Sort"),
}
# Bookkeeping nobody reads: ids, calendar versions, keys other fields say in words.
HIDDEN = frozenset({"id", "event_id", "sequence", "audience", "attendee", "email_normalized"})

WORDS = {
    "scheduled": _l("Scheduled"),
    "cancelled": _l("Cancelled"),
    "confirmed": _l("Confirmed"),
    "waitlisted": _l("On the waiting list"),
    "offered": _l("Offered"),
    "active": _l("Active"),
    "draft": _l("Draft"),
    "published": _l("Published"),
    "closed": _l("Closed"),
    "workshop": _l("Workshop"),
    "plenary": _l("Plenary"),
    "other": _l("Break"),
    "alternative": _l("Each given a free workshop"),
    "waitlist": _l("Put on the waiting list"),
}
WORD_FIELDS = frozenset({"status", "kind", "clash_fix"})
SESSION_LIST_FIELDS = frozenset({"confirmed", "waitlisted", "offered"})


@dataclass
class Value:
    """One value in words: `text`, or an instant (`moment`) the page shows in local time."""

    text: str = ""
    moment: datetime | None = None


@dataclass
class Change:
    label: str
    before: Value | None
    after: Value | None


@dataclass
class Line:
    """One entry of the log in words."""

    entry: AuditEntry
    what: str  # the action in words
    actor_kind: str  # organiser, attendee, system
    actor: str  # the organiser's or attendee's name ("" for the system)
    attendee: Attendee | None
    session: EventSession | None
    changes: list[Change] = field(default_factory=list)


@dataclass
class Names:
    """The names of everything a page of entries refers to, looked up once."""

    attendees: dict[int, Attendee]
    sessions: dict[int, EventSession]
    rooms: dict[int, str]


def page_of(
    event: Event,
    *,
    attendee_id: int | None = None,
    session_id: int | None = None,
    search: str = "",
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[Line], int]:
    """One page of the event's log, newest first, in words; and the number of entries.
    `search`: entries about attendees whose name, email, organisation or reference has it
    (the attendee list's search)."""
    query = select(AuditEntry).where(AuditEntry.event_id == event.id)
    if attendee_id is not None:
        query = query.where(AuditEntry.attendee_id == attendee_id)
    if search:
        matching = select(Attendee.id).where(Attendee.event_id == event.id)
        query = query.where(AuditEntry.attendee_id.in_(matching.where(search_condition(search))))
    if session_id is not None:
        query = query.where(AuditEntry.session_id == session_id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    entries = db.session.scalars(
        query.options(selectinload(AuditEntry.organiser))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    ).all()
    names = _names(event, entries)
    return [_line(entry, names) for entry in entries], total


def _names(event: Event, entries: list[AuditEntry]) -> Names:
    attendee_ids, session_ids, room_ids = set(), set(), set()
    for entry in entries:
        attendee_ids.add(entry.attendee_id)
        session_ids.add(entry.session_id)
        for values in (entry.before or {}, entry.after or {}):
            _ids_in(values, attendee_ids, session_ids, room_ids)
    attendees = _by_id(Attendee, attendee_ids, Attendee.event_id == event.id)
    sessions = _by_id(EventSession, session_ids, EventSession.event_id == event.id)
    rooms = {r.id: r.name for r in _by_id(Room, room_ids, Room.event_id == event.id).values()}
    return Names(attendees, sessions, rooms)


def _ids_in(values: dict, attendee_ids: set, session_ids: set, room_ids: set) -> None:
    for key, value in values.items():
        if key == "attendee_id":
            attendee_ids.add(value)
        elif key == "session_id":
            session_ids.add(value)
        elif key == "room_id":
            room_ids.add(value)
        elif key in SESSION_LIST_FIELDS and isinstance(value, list):
            session_ids.update(value)
        elif key == "filter" and isinstance(value, dict):  # an export's filter
            session_ids.add(value.get("session"))
        elif key == "clashes_fixed" and isinstance(value, list):
            for fixed in value:
                if isinstance(fixed, dict):
                    attendee_ids.add(fixed.get("attendee_id"))
                    session_ids.add(fixed.get("to_session_id"))


def _by_id(model, ids: set, in_event) -> dict:
    wanted = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]
    if not wanted:
        return {}
    rows = db.session.scalars(select(model).where(model.id.in_(wanted), in_event))
    return {row.id: row for row in rows}


def _line(entry: AuditEntry, names: Names) -> Line:
    attendee = names.attendees.get(entry.attendee_id)
    if entry.actor_kind == "attendee":
        actor = attendee.name if attendee else ""
    elif entry.organiser is not None:
        actor = entry.organiser.name or entry.organiser.email
    else:
        actor = ""
    before, after = entry.before or {}, entry.after or {}
    keys = [k for k in dict.fromkeys([*before, *after]) if k not in HIDDEN]
    changes = [
        Change(
            _field_label(key),
            _value(key, before[key], names) if key in before else None,
            _value(key, after[key], names) if key in after else None,
        )
        for key in keys
    ]
    return Line(
        entry,
        label("audit_action", entry.action),
        entry.actor_kind,
        actor,
        attendee,
        names.sessions.get(entry.session_id),
        changes,
    )


def _value(key: str, value, names: Names) -> Value:
    """A stored value in words."""
    if value is None or value == "" or value == [] or value == {}:
        return Value("—")
    if key == "notified":
        return Value(_notified(value))
    if isinstance(value, bool):
        return Value(str(_l("Yes") if value else _l("No")))
    if (key == "at" or key.endswith("_at")) and isinstance(value, str):
        try:
            return Value(moment=datetime.fromisoformat(value))
        except ValueError:
            return Value(value)
    if key in WORD_FIELDS:
        return Value(str(WORDS.get(value, value)))
    if key == "room_id":
        return Value(names.rooms.get(value, "—"))
    if key in ("session_id", "session"):
        return Value(_title(names, value))
    if key == "attendee_id":
        return Value(_name(names, value))
    if key in SESSION_LIST_FIELDS and isinstance(value, list):
        return Value(", ".join(_title(names, i) for i in value))
    if key == "clashes_fixed" and isinstance(value, list):
        return Value("; ".join(_fixed(names, f) for f in value if isinstance(f, dict)))
    if isinstance(value, list):
        return Value(", ".join(str(v) for v in value))
    if isinstance(value, dict):  # an export's filter: "Status: cancelled, Search: ada"
        return Value(
            ", ".join(f"{_field_label(k)}: {_value(k, v, names).text}" for k, v in value.items())
        )
    return Value(str(value))


def _field_label(key: str) -> str:
    return str(FIELDS.get(key, key.replace("_", " ").capitalize()))


def _notified(value) -> str:
    if value is False:
        return str(_l("not notified"))
    if isinstance(value, int):
        return ngettext("%(num)d person", "%(num)d people", value)
    return str(value)


def _title(names: Names, session_id) -> str:
    session = names.sessions.get(session_id)
    return session.title if session else str(_l("a removed session"))


def _name(names: Names, attendee_id) -> str:
    attendee = names.attendees.get(attendee_id)
    return attendee.name if attendee else str(_l("a removed attendee"))


def _fixed(names: Names, fixed: dict) -> str:
    to = fixed.get("to_session_id")
    where = _title(names, to) if to else str(_l("the waiting list"))
    return f"{_name(names, fixed.get('attendee_id'))} → {where}"


def filter_sessions(event: Event) -> list[EventSession]:
    """The sessions the log can be filtered by, in programme order."""
    return sessions_of(event)


def attendee_of(event: Event, attendee_id: int | None) -> Attendee | None:
    """The attendee the log is filtered by (None for another event's or an unknown id)."""
    if attendee_id is None:
        return None
    attendee = db.session.get(Attendee, attendee_id)
    return attendee if attendee is not None and attendee.event_id == event.id else None
