"""Checking attendees in at the door of the event or of one session.

The door finds an attendee by the code printed as a QR code in their confirmation email
(Attendee.checkin_code), or by name or email. Attendance is recorded for the event
(Attendee.checked_in_at) or for one session (Registration.checked_in_at; that also counts
as arriving at the event). Checking in twice is harmless and says when the first time was,
which is what the door needs when two people show the same code.

An event over several days is checked in day by day: the event's door on its second day
expects the people holding a seat that day, and someone who came yesterday is checked in
again, not told "already checked in at 08:30" (yesterday's time). `Attendee.checked_in_at`
then holds the arrival on the latest day they came (the audit log keeps every day's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, case, exists, func, or_, select, update
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Attendee, Event, EventSession, Organiser, Registration
from .. import audit
from ..errors import DomainError, NotFound
from .attendees import search_condition

SEARCH_LIMIT = 25
ENTRY_SHOWN = 60  # characters of a typed entry repeated in "nobody found for ..."
# How old a check-in queued on an offline device may be and still keep its own time.
OFFLINE_WINDOW = timedelta(hours=12)
# Crockford base32, as codes are made (services/tokens.py): letters people confuse map back.
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})


class CheckinRefused(DomainError):
    """The person may not be checked in here: cancelled, or without a seat in the session."""

    def __init__(self, message: str):
        super().__init__(message, "checkin_refused", 409)


def normalise_code(raw: object) -> str:
    """What a scanner or a person typed, as a stored code: the last part of a URL if one was
    scanned, upper case, without spaces or dashes, confusable letters mapped back."""
    if not isinstance(raw, str):
        return ""
    value = raw.strip().split("?", 1)[0].split("#", 1)[0].rstrip("/")
    if "/" in value:
        value = value.rsplit("/", 1)[-1]
    value = "".join(ch for ch in value.upper() if ch not in " -\t")
    return value.translate(_CONFUSABLE)[:32]


def find_by_code(event: Event, raw_code: object) -> Attendee:
    code = normalise_code(raw_code)
    attendee = None
    if code:
        attendee = db.session.scalar(
            select(Attendee).where(Attendee.event_id == event.id, Attendee.checkin_code == code)
        )
    if attendee is None:
        raise NotFound(_("No attendee of this event has the code %(code)s.", code=code or "–"))
    return attendee


def search(event: Event, term: str, limit: int = SEARCH_LIMIT) -> list[Attendee]:
    """Attendees whose name, email, organisation, reference or code matches; active first."""
    term = (term or "").strip()
    if not term:
        return []
    return list(
        db.session.scalars(
            select(Attendee)
            .where(Attendee.event_id == event.id, search_condition(term))
            .options(selectinload(Attendee.registrations))
            .order_by(Attendee.status, func.lower(Attendee.name), Attendee.id)
            .limit(limit)
        )
    )


def event_day(event: Event, at: datetime) -> date | None:
    """The day (in the event's zone) `at` falls on, when the event spans several days and so
    is checked in day by day; None for a one-day event, checked in once."""
    first = event.local(event.starts_at).date()
    last = event.local(event.ends_at - timedelta(seconds=1)).date()
    return event.local(at).date() if last > first else None


def door_day(event: Event, now: datetime) -> date | None:
    """The day the check-in pages count for: today, when it is one of the event's days;
    None (the whole event) for a one-day event or on a day outside it."""
    day = event_day(event, now)
    first, last = event.local(event.starts_at).date(), event.local(event.ends_at).date()
    return day if day is not None and first <= day <= last else None


def day_bounds(event: Event, day: date) -> tuple[datetime, datetime]:
    """The day's first instant and the next day's, in UTC, as stored times compare."""
    start = datetime.combine(day, time(0), tzinfo=event.tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=event.tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def _mark(model, row, at: datetime, day: tuple[datetime, datetime] | None = None) -> bool:
    """Set `checked_in_at` if it is still empty (or, with `day`'s bounds, holds an earlier
    day's arrival); True if this call set it.

    A device that was offline sends its check-ins later, with the time they were scanned:
    an arrival recorded meanwhile at a later time that day (another door) moves back to the
    earlier one, so `checked_in_at` is always when the person first came in (that day)."""
    empty = model.checked_in_at.is_(None)
    if day is not None:
        empty = or_(empty, model.checked_in_at < day[0])
    result = db.session.execute(
        update(model)
        .where(model.id == row.id, empty)
        .values(checked_in_at=at)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        later = model.checked_in_at > at
        if day is not None:
            later = and_(later, model.checked_in_at < day[1])
        db.session.execute(
            update(model)
            .where(model.id == row.id, later)
            .values(checked_in_at=at)
            .execution_options(synchronize_session=False)
        )
    db.session.refresh(row, ["checked_in_at"])
    return result.rowcount == 1


@dataclass
class CheckinResult:
    attendee: Attendee
    session: EventSession | None
    checked_in_at: datetime
    already: bool  # they had been checked in before: checked_in_at is that first time


def _seat_in(attendee: Attendee, session: EventSession) -> Registration:
    for reg in attendee.registrations:
        if reg.session_id == session.id and reg.holds_seat:
            return reg
    waitlisted = any(
        r.session_id == session.id and r.status == "waitlisted" for r in attendee.registrations
    )
    if waitlisted:
        raise CheckinRefused(
            _(
                "%(name)s is on the waiting list of “%(title)s”, without a seat.",
                name=attendee.name,
                title=session.title,
            )
        )
    raise CheckinRefused(
        _("%(name)s is not registered for “%(title)s”.", name=attendee.name, title=session.title)
    )


def arrival_time(scanned_at: datetime | None, now: datetime) -> datetime:
    """When the person arrived: the device's scan time if it is plausible (not in the future,
    not more than OFFLINE_WINDOW ago, as a queue kept through a Wi-Fi drop is), else now."""
    if scanned_at is None or scanned_at.tzinfo is None:
        return now
    if now - OFFLINE_WINDOW <= scanned_at <= now:
        return scanned_at
    return now


def check_in(
    attendee: Attendee,
    *,
    now: datetime,
    actor: Organiser,
    session: EventSession | None = None,
    scanned_at: datetime | None = None,
) -> CheckinResult:
    """Record that the attendee arrived (at the event, or at `session`); `scanned_at` is the
    time a device scanned the code while it was offline."""
    now = arrival_time(scanned_at, now)
    if attendee.status != "active":
        raise CheckinRefused(_("%(name)s cancelled their registration.", name=attendee.name))
    if session is not None and session.event_id != attendee.event_id:
        raise NotFound(_("No such session."))
    registration = _seat_in(attendee, session) if session is not None else None
    # Conditional UPDATEs: of two doors scanning the same code at once, exactly one records
    # the arrival, and the other is told "already", with the first time.
    day = event_day(attendee.event, now)
    arrived = _mark(Attendee, attendee, now, day_bounds(attendee.event, day) if day else None)
    if registration is not None:
        already = not _mark(Registration, registration, now)
        first = registration.checked_in_at
    else:
        already, first = not arrived, attendee.checked_in_at
    if not already:
        audit.record(
            actor,
            "attendee.check_in",
            attendee,
            before=None,
            after={"session_id": session.id if session else None, "at": now.isoformat()},
            event=attendee.event,
        )
    db.session.flush()
    return CheckinResult(attendee, session, first, already)


def undo_check_in(
    attendee: Attendee, *, actor: Organiser, session: EventSession | None = None
) -> None:
    """Take back a check-in made by mistake (for the session, or for the event and all its
    sessions)."""
    if session is not None:
        changed = [r for r in attendee.registrations if r.session_id == session.id]
    else:
        changed = list(attendee.registrations)
    before = attendee.checked_in_at if session is None else None
    for reg in changed:
        reg.checked_in_at = None
    if session is None:
        attendee.checked_in_at = None
    audit.record(
        actor,
        "attendee.undo_check_in",
        attendee,
        before={
            "at": before.isoformat() if before else None,
            "session_id": session.id if session else None,
        },
        after=None,
        event=attendee.event,
    )
    db.session.flush()


@dataclass
class Attendance:
    expected: int
    arrived: int

    @property
    def missing(self) -> int:
        return self.expected - self.arrived


def _expected_event(event: Event, day: date | None = None):
    """Active attendees holding at least one seat (that day, for an event over several
    days): the people the door expects today."""
    seat = [Registration.attendee_id == Attendee.id, Registration.holds_seat]
    if day is not None:
        start, end = day_bounds(event, day)
        seat += [
            Registration.session_id == EventSession.id,
            EventSession.starts_at >= start,
            EventSession.starts_at < end,
        ]
    return select(Attendee).where(
        Attendee.event_id == event.id,
        Attendee.status == "active",
        exists().where(*seat),
    )


def _arrived_on(event: Event, day: date | None):
    """The condition "checked in for the event" (on `day`, if given)."""
    if day is None:
        return Attendee.checked_in_at.is_not(None)
    start, end = day_bounds(event, day)
    return and_(Attendee.checked_in_at >= start, Attendee.checked_in_at < end)


def _expected_session(session: EventSession):
    return (
        select(Attendee)
        .join(Registration, Registration.attendee_id == Attendee.id)
        .where(
            Registration.session_id == session.id,
            Registration.holds_seat,
            Attendee.status == "active",
        )
    )


def attendance(
    event: Event, session: EventSession | None = None, day: date | None = None
) -> Attendance:
    """How many are expected, and how many of them have arrived (for the event: on `day`,
    when it is checked in day by day, see door_day): one query."""
    if session is None:
        arrived_column = case((_arrived_on(event, day), 1))
        base = _expected_event(event, day)
    else:
        arrived_column = Registration.checked_in_at
        base = _expected_session(session)
    expected, arrived = db.session.execute(
        base.with_only_columns(func.count(), func.count(arrived_column))
    ).one()
    return Attendance(expected, arrived)


def not_arrived(
    event: Event,
    session: EventSession | None = None,
    *,
    page: int = 1,
    per_page: int = 50,
    day: date | None = None,
):
    """The expected attendees who have not come yet (on `day`), by name, a page at a time."""
    if session is None:
        arrived = _arrived_on(event, day)
        stmt = _expected_event(event, day).where(or_(Attendee.checked_in_at.is_(None), ~arrived))
    else:
        stmt = _expected_session(session).where(Registration.checked_in_at.is_(None))
    stmt = stmt.order_by(func.lower(Attendee.name), Attendee.id)
    return db.paginate(stmt, page=page, per_page=per_page, max_per_page=200, error_out=False)


def recently_arrived(
    event: Event, session: EventSession | None = None, limit: int = 10, day: date | None = None
):
    """The last people checked in (on `day`), newest first, so the door sees what just
    happened."""
    if session is None:
        stmt = (
            _expected_event(event, day)
            .where(_arrived_on(event, day))
            .order_by(Attendee.checked_in_at.desc())
        )
    else:
        stmt = (
            _expected_session(session)
            .where(Registration.checked_in_at.is_not(None))
            .order_by(Registration.checked_in_at.desc())
        )
    return list(db.session.scalars(stmt.limit(limit)))


@dataclass
class ScanOutcome:
    """What the door shows after one scan or typed entry.

    `state` is "checked_in", "already", "refused", "unknown" or "search" (the text was not a
    code: `matches` are the people whose name or email fits it)."""

    state: str
    message: str
    result: CheckinResult | None = None
    matches: list[Attendee] | None = None


def looks_like_code(raw: str) -> bool:
    """A check-in code as typed or scanned (letters and digits, maybe a URL around them), not
    a name: a name has a space or is longer than any code."""
    code = normalise_code(raw)
    return bool(code) and code.isalnum() and " " not in raw.strip() and len(code) <= 16


def _found_by_name(event: Event, raw: str) -> ScanOutcome:
    """The people a typed name fits, or "nobody" in the words typed: never "pick" with
    nobody to pick, nor the name read as a code ("no attendee has the code HENDR1KS")."""
    matches = search(event, raw)
    if matches:
        return ScanOutcome("search", _("Pick the person to check in."), matches=matches)
    entry = " ".join(raw.split())[:ENTRY_SHOWN]
    return ScanOutcome(
        "unknown", _("Nobody found for “%(entry)s”: no name, email or code fits.", entry=entry)
    )


def scan(
    event: Event,
    raw: str,
    *,
    now: datetime,
    actor: Organiser,
    session: EventSession | None = None,
    scanned_at: datetime | None = None,
) -> ScanOutcome:
    """One entry at the door: a code checks its holder in; a name finds the people it fits
    (the door then picks one), so typing "Hendriks" never answers "no code HENDRIKS"."""
    if not looks_like_code(raw):
        return _found_by_name(event, raw)
    try:
        person = find_by_code(event, raw)
    except NotFound as missing:
        if normalise_code(raw) == raw.strip().upper():  # typed or scanned as a code
            matches = search(event, raw)
            if not matches:
                return ScanOutcome("unknown", missing.message)
            return ScanOutcome("search", _("Pick the person to check in."), matches=matches)
        return _found_by_name(event, raw)  # "Hendriks" passes for a code, but it is a name
    try:
        result = check_in(person, now=now, actor=actor, session=session, scanned_at=scanned_at)
    except CheckinRefused as refused:
        return ScanOutcome("refused", refused.message)
    if result.already:
        at = result.checked_in_at.astimezone(event.tz).strftime("%H:%M")
        return ScanOutcome("already", _("Already checked in at %(time)s", time=at), result=result)
    return ScanOutcome("checked_in", _("Checked in"), result=result)
