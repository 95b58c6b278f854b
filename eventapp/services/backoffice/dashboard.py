"""The figures on the organiser's dashboard, each a single aggregate query.

Nothing here loops over attendees with a query per row: the number of queries a dashboard
costs is the same for ten attendees as for ten thousand (a test counts them), and no row per
attendee leaves the database: the attendees are counted per status and per five minutes of
registration in one grouped query, from which both the totals and the timeline come.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, literal, select

from ...database import EpochBucket
from ...extensions import db
from ...models import Attendee, Event, EventSession, OutboxMessage, Registration
from ..errors import NotFound
from ..mail.outbox import OUTAGE_PREFIX
from ..programme.reading import sessions_of

FAILED_SHOWN = 20


@dataclass
class SessionFigures:
    session: EventSession
    confirmed: int = 0  # holding a seat: confirmed, or offered and not yet answered
    waitlisted: int = 0
    checked_in: int = 0
    # Of `confirmed`: seats held until the attendee confirms the email (registration/holds.py).
    held: int = 0

    @property
    def capacity(self) -> int:
        return self.session.capacity

    @property
    def fill_percent(self) -> int:
        """Confirmed seats as a share of capacity, 0-100 (a session without seats is 0)."""
        if self.capacity <= 0:
            return 100 if self.confirmed else 0
        return min(100, round(100 * self.confirmed / self.capacity))

    @property
    def is_full(self) -> bool:
        return self.confirmed >= self.capacity


def _percent(part: int, whole: int) -> int:
    return min(100, round(100 * part / whole)) if whole else 0


@dataclass
class Totals:
    attendees: int = 0  # active
    cancelled: int = 0
    checked_in: int = 0
    seats_taken: int = 0
    capacity: int = 0
    waitlisted: int = 0
    held_attendees: int = 0  # active, their email not confirmed yet
    held_seats: int = 0  # of seats_taken
    # Plenary halls and workshop rooms apart: 600 empty plenary seats hide a full workshop
    # programme in the sum.
    plenary_taken: int = 0
    plenary_capacity: int = 0
    workshop_taken: int = 0
    workshop_capacity: int = 0

    @property
    def fill_percent(self) -> int:
        return _percent(self.seats_taken, self.capacity)

    @property
    def plenary_fill_percent(self) -> int:
        return _percent(self.plenary_taken, self.plenary_capacity)

    @property
    def workshop_fill_percent(self) -> int:
        return _percent(self.workshop_taken, self.workshop_capacity)


@dataclass
class DayCount:
    """New registrations in one bucket of the timeline and the running total after it.

    `day` is a local date for a timeline in days, or the local start (a datetime) of an hour
    or of ten minutes for one whose registrations came within hours: the opening rush."""

    day: date | datetime
    new: int
    total: int


@dataclass
class OutboxFigures:
    pending: int = 0
    sending: int = 0
    sent: int = 0
    failed: int = 0
    failed_messages: list[OutboxMessage] = field(default_factory=list)
    # Why mail waits, while the mail server cannot be reached (None when it can).
    outage: str | None = None


@dataclass
class EventFigures:
    event: Event
    sessions: list[SessionFigures]
    totals: Totals
    timeline: list[DayCount]
    outbox: OutboxFigures


def session_figures(
    event: Event, sessions: list[EventSession] | None = None
) -> list[SessionFigures]:
    """Every session of the event with its counts: the sessions (programme.sessions_of,
    unless the caller has them), then one statement for the rest.

    The seats come from each session's `seats_taken`, the counter every registration path
    keeps equal to its seat-holding rows under the session's lock (registration/waitlist.py;
    the registration itself decides on it). So no confirmed row is read: only the waiting
    lists, the checked-in seats (a partial index holds just those) and the seats of
    attendees on hold (rare), instead of a grouped count over every registration joined
    to its attendee (40-50 ms with 25,000 registrations, docs/PERFORMANCE.md).
    """
    sessions = sessions_of(event) if sessions is None else sessions
    figures = {s.id: SessionFigures(s, confirmed=s.seats_taken) for s in sessions}
    for session_id, what, count in db.session.execute(_registration_counts(event)):
        if session_id in figures:
            setattr(figures[session_id], what, count)
    return list(figures.values())


def _registration_counts(event: Event):
    """(session id, figure name, count) rows: the waiting list, the seats checked in and the
    seats held for an unconfirmed email, per session of the event, in one statement."""
    of_event = select(EventSession.id).where(EventSession.event_id == event.id)
    waiting = (
        select(Registration.session_id, literal("waitlisted"), func.count())
        .where(Registration.session_id.in_(of_event), Registration.status == "waitlisted")
        .group_by(Registration.session_id)
    )
    checked_in = (
        select(Registration.session_id, literal("checked_in"), func.count())
        .where(
            Registration.session_id.in_(of_event),
            Registration.checked_in_at.is_not(None),
            Registration.holds_seat,
        )
        .group_by(Registration.session_id)
    )
    held = (
        select(Registration.session_id, literal("held"), func.count())
        .join(Attendee, Attendee.id == Registration.attendee_id)
        .where(
            Attendee.event_id == event.id,
            Attendee.status == "active",
            Attendee.hold_expires_at.is_not(None),
            Registration.holds_seat,
        )
        .group_by(Registration.session_id)
    )
    return waiting.union_all(checked_in, held)


@dataclass
class DayFigures:
    """One local day of the programme on the dashboard: its sessions and their sums (the
    session table shows one day at a time; each day's tab carries these)."""

    day: date
    sessions: list[SessionFigures] = field(default_factory=list)
    seats_taken: int = 0
    capacity: int = 0
    waitlisted: int = 0
    full: int = 0  # sessions with registration whose seats are all taken

    @property
    def fill_percent(self) -> int:
        return _percent(self.seats_taken, self.capacity)


def days_of(event: Event, figures: list[SessionFigures]) -> list[DayFigures]:
    """The sessions per local day of the event (by their start), in programme order, each
    day with the seats, capacity and waiting lists of its scheduled sessions with seats."""
    days: dict[date, DayFigures] = {}
    for figure in figures:
        session = figure.session
        day = days.setdefault(
            event.local(session.starts_at).date(), DayFigures(event.local(session.starts_at).date())
        )
        day.sessions.append(figure)
        if session.status == "scheduled" and session.kind != "other":
            day.seats_taken += figure.confirmed
            day.capacity += figure.capacity
            day.waitlisted += figure.waitlisted
            day.full += figure.is_full
    return [days[d] for d in sorted(days)]


def day_to_show(days: list[DayFigures], wanted: str | None, today: date) -> DayFigures | None:
    """The day the session table shows: the one asked for (?day=2027-03-18), else today
    during the event, else the first. None: every day ("all", or a programme of one day).

    NotFound for a value that is not a day of this programme: a clear 404, not a guess."""
    if wanted and wanted != "all":
        for day in days:
            if day.day.isoformat() == wanted:
                return day
        raise NotFound(_("This event has no sessions on that day."))
    if wanted == "all" or len(days) <= 1:
        return None
    return next((d for d in days if d.day == today), days[0])


# Every local day, hour and ten minutes is a whole number of these UTC periods: every UTC
# offset in use is a whole number of quarter hours (Nepal's +05:45 included).
BUCKET_SECONDS = 300


@dataclass
class AttendeeBucket:
    """Attendees of one status who registered within one five-minute period."""

    status: str
    held: bool  # seats held until the email is confirmed (registration/holds.py)
    first: datetime  # the earliest registration in it
    last: datetime
    count: int
    checked_in: int


def attendee_buckets(event: Event) -> list[AttendeeBucket]:
    """The event's attendees counted per status and five-minute period, in one query."""
    bucket = EpochBucket(Attendee.created_at, literal(BUCKET_SECONDS))
    held = Attendee.hold_expires_at.is_not(None)
    rows = db.session.execute(
        select(
            Attendee.status,
            held,
            func.min(Attendee.created_at),
            func.max(Attendee.created_at),
            func.count(),
            func.count(Attendee.checked_in_at),
        )
        .where(Attendee.event_id == event.id)
        .group_by(Attendee.status, held, bucket)
    )
    return [AttendeeBucket(*row) for row in rows]


def totals(
    event: Event, sessions: list[SessionFigures], buckets: list[AttendeeBucket] | None = None
) -> Totals:
    result = Totals()
    buckets = attendee_buckets(event) if buckets is None else buckets
    for bucket in buckets:
        if bucket.status == "active":
            result.attendees += bucket.count
            result.checked_in += bucket.checked_in
            result.held_attendees += bucket.count if bucket.held else 0
        else:
            result.cancelled += bucket.count
    for figure in sessions:
        if figure.session.status == "scheduled" and figure.session.kind != "other":
            result.seats_taken += figure.confirmed
            result.held_seats += figure.held
            result.capacity += figure.capacity
            result.waitlisted += figure.waitlisted
            if figure.session.kind == "plenary":
                result.plenary_taken += figure.confirmed
                result.plenary_capacity += figure.capacity
            else:
                result.workshop_taken += figure.confirmed
                result.workshop_capacity += figure.capacity
    return result


def registrations_per_day(
    event: Event, until: datetime | None = None, buckets: list[AttendeeBucket] | None = None
) -> list[DayCount]:
    """New registrations per local day of the event, gaps filled with zero, and the running
    total. Days are the event's own, so a registration at 00:30 in Amsterdam counts on that
    Amsterdam day."""
    buckets = attendee_buckets(event) if buckets is None else buckets
    if not buckets:
        return []
    per_day: dict[date, int] = {}
    for bucket in buckets:  # all of a bucket's registrations fall on one local day
        day = event.local(bucket.first).date()
        per_day[day] = per_day.get(day, 0) + bucket.count
    first, last = min(per_day), max(per_day)
    if until is not None:
        last = max(last, min(event.local(until).date(), event.local(event.ends_at).date()))
    days, total, day = [], 0, first
    while day <= last:
        total += per_day.get(day, 0)
        days.append(DayCount(day, per_day.get(day, 0), total))
        day += timedelta(days=1)
    return days


# Finer buckets when every registration so far came within a short span: the chart then shows
# the opening rush by the hour, or by ten minutes, instead of one bar for the whole day.
HOURLY_WITHIN = timedelta(days=2)
TEN_MINUTES_WITHIN = timedelta(hours=3)


def registrations_over_time(
    event: Event, until: datetime | None = None, buckets: list[AttendeeBucket] | None = None
) -> list[DayCount]:
    """The timeline of registrations in the bucket size that shows its shape: days, hours
    or ten minutes (local times of the event), gaps filled with zero."""
    buckets = attendee_buckets(event) if buckets is None else buckets
    if not buckets:
        return []
    span = max(b.last for b in buckets) - min(b.first for b in buckets)
    if span > HOURLY_WITHIN:
        return registrations_per_day(event, until, buckets)
    step = timedelta(minutes=10) if span <= TEN_MINUTES_WITHIN else timedelta(hours=1)
    per_bucket: dict[datetime, int] = {}
    for bucket in buckets:  # five minutes never straddle a local ten minutes or hour
        local = event.local(bucket.first)
        start = local.replace(minute=local.minute - local.minute % 10, second=0, microsecond=0)
        if step == timedelta(hours=1):
            start = start.replace(minute=0)
        per_bucket[start] = per_bucket.get(start, 0) + bucket.count
    buckets, total, start = [], 0, min(per_bucket)
    while start <= max(per_bucket):
        total += per_bucket.get(start, 0)
        buckets.append(DayCount(start, per_bucket.get(start, 0), total))
        start = event.local(start + step)  # the wall clock moves on across a DST change
    return buckets


def outbox_figures(event: Event) -> OutboxFigures:
    """The event's mail per status and why mail waits (one query), and the last failures."""
    figures = OutboxFigures()
    latest_wait = (
        select(OutboxMessage.last_error)
        .where(
            OutboxMessage.event_id == event.id,
            OutboxMessage.status == "pending",
            OutboxMessage.last_error.startswith(OUTAGE_PREFIX, autoescape=True),
        )
        .order_by(OutboxMessage.next_attempt_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(OutboxMessage.status, func.count(), latest_wait)
        .where(OutboxMessage.event_id == event.id)
        .group_by(OutboxMessage.status)
    )
    for status, count, outage in rows:
        setattr(figures, status, count)
        if outage:
            figures.outage = outage.removeprefix(OUTAGE_PREFIX)
    figures.failed_messages = list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.event_id == event.id, OutboxMessage.status == "failed")
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .limit(FAILED_SHOWN)
        )
    )
    return figures


def event_figures(
    event: Event, now: datetime | None = None, sessions: list[EventSession] | None = None
) -> EventFigures:
    """Everything the event's dashboard counts, in five queries (three more for the
    sessions when the caller has not loaded them with programme.sessions_of)."""
    figures = session_figures(event, sessions)
    buckets = attendee_buckets(event)
    return EventFigures(
        event=event,
        sessions=figures,
        totals=totals(event, figures, buckets),
        timeline=registrations_over_time(event, now, buckets),
        outbox=outbox_figures(event),
    )


@dataclass
class EventSummary:
    event: Event
    attendees: int = 0
    seats_taken: int = 0
    capacity: int = 0
    failed_mail: int = 0

    @property
    def fill_percent(self) -> int:
        return min(100, round(100 * self.seats_taken / self.capacity)) if self.capacity else 0


def all_events() -> list[EventSummary]:
    """Every event, newest first, with its headline figures: four queries in all."""
    events = db.session.scalars(select(Event).order_by(Event.starts_at.desc(), Event.id)).all()
    summaries = {e.id: EventSummary(e) for e in events}
    attendee_rows = db.session.execute(
        select(Attendee.event_id, func.count())
        .where(Attendee.status == "active")
        .group_by(Attendee.event_id)
    )
    for event_id, count in attendee_rows:
        summaries[event_id].attendees = count
    seat_rows = db.session.execute(
        select(
            EventSession.event_id,
            func.sum(EventSession.seats_taken),
            func.sum(EventSession.capacity),
        )
        .where(EventSession.status == "scheduled", EventSession.kind != "other")
        .group_by(EventSession.event_id)
    )
    for event_id, taken, capacity in seat_rows:
        summaries[event_id].seats_taken = int(taken or 0)
        summaries[event_id].capacity = int(capacity or 0)
    failed_rows = db.session.execute(
        select(OutboxMessage.event_id, func.count())
        .where(OutboxMessage.status == "failed", OutboxMessage.event_id.is_not(None))
        .group_by(OutboxMessage.event_id)
    )
    for event_id, count in failed_rows:
        if event_id in summaries:
            summaries[event_id].failed_mail = count
    return list(summaries.values())
