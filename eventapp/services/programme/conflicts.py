"""Programme conflicts: what clashes when a session is saved, and what clashes in an event now.

Hard conflicts block a change; soft ones are warnings an organiser may accept explicitly
(`confirm=True`):

| kind                   | severity | why                                                       |
|------------------------|----------|-----------------------------------------------------------|
| room_double_booked     | hard     | a room can't hold two sessions at once (invariant 3)      |
| capacity_below_taken   | hard     | more confirmed seats than the new capacity (invariant 1)  |
| attendee_overlap       | hard     | attendees would hold overlapping confirmed seats          |
|                        |          | (invariant 2): move those attendees first                 |
| speaker_double_booked  | soft     | "speakers" are often organisations or teams (SMITZH, TNO) |
|                        |          | that can be in two rooms at once                          |
| outside_event_hours    | soft     | a set-up session or the evening dinner may be deliberate  |
| capacity_above_room    | soft     | standing room, or a room estimate that is out of date     |
| rankings_touched       | soft     | attendees ranked this workshop (preference mode): they    |
|                        |          | are emailed to review their ranking (allocation/)         |

Checks read the proposed state (a `SessionPlan`) without flushing it, so nothing half-saved
is ever seen; the caller writes only when the list allows it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ...extensions import db
from ...models import Attendee, Event, EventSession, Registration, Room, Speaker, session_speakers
from ..errors import Conflict
from .reading import overlapping_pairs, session_summary, sessions_of

HARD = "hard"
SOFT = "soft"

ROOM_DOUBLE_BOOKED = "room_double_booked"
SPEAKER_DOUBLE_BOOKED = "speaker_double_booked"
OUTSIDE_EVENT_HOURS = "outside_event_hours"
CAPACITY_ABOVE_ROOM = "capacity_above_room"
CAPACITY_BELOW_TAKEN = "capacity_below_taken"
ATTENDEE_OVERLAP = "attendee_overlap"
UNKNOWN_TIMEZONE = "unknown_timezone"  # an imported file's TZID nobody knows (importing.py)
RANKINGS_TOUCHED = "rankings_touched"  # a change to a workshop attendees have ranked

SEVERITY = {
    ROOM_DOUBLE_BOOKED: HARD,
    CAPACITY_BELOW_TAKEN: HARD,
    ATTENDEE_OVERLAP: HARD,
    SPEAKER_DOUBLE_BOOKED: SOFT,
    OUTSIDE_EVENT_HOURS: SOFT,
    CAPACITY_ABOVE_ROOM: SOFT,
    UNKNOWN_TIMEZONE: SOFT,
    RANKINGS_TOUCHED: SOFT,
}
KINDS = tuple(SEVERITY)


@dataclass
class ConflictItem:
    """One clash: what kind, how bad, in words, and which sessions (and people) it concerns."""

    kind: str
    message: str
    sessions: list[dict] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    @property
    def severity(self) -> str:
        return SEVERITY[self.kind]

    @property
    def is_hard(self) -> bool:
        return self.severity == HARD

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message,
            "sessions": self.sessions,
            **self.details,
        }


@dataclass
class SessionPlan:
    """A session as it would be after a save; `session_id` is None for a new one."""

    event: Event
    title: str
    starts_at: datetime
    ends_at: datetime
    room: Room | None
    capacity: int
    speaker_names: list[str]
    session_id: int | None = None
    seats_taken: int = 0
    status: str = "scheduled"
    # Check the attendees' other sessions: set when a session with attendees moves in time.
    check_attendees: bool = False

    @property
    def id(self) -> int | None:
        return self.session_id

    def summary(self) -> dict:
        return session_summary(self)


def _time(value: datetime, event: Event) -> str:
    return value.astimezone(event.tz).strftime("%H:%M")


def check_session(plan: SessionPlan) -> list[ConflictItem]:
    """Every conflict the planned session would have with the rest of the event."""
    if plan.status != "scheduled":
        return []  # a cancelled session holds no room, speaker or seat
    with db.session.no_autoflush:
        found = _room_clashes(plan) + _speaker_clashes(plan)
        found += _hours_and_capacity(plan)
        if plan.check_attendees and plan.session_id is not None:
            found += _attendee_overlaps(plan)
    return sort_conflicts(found)


def _others_overlapping(plan: SessionPlan):
    query = select(EventSession).where(
        EventSession.event_id == plan.event.id,
        EventSession.status == "scheduled",
        EventSession.overlaps(plan),
    )
    if plan.session_id is not None:
        query = query.where(EventSession.id != plan.session_id)
    return query


def _room_clashes(plan: SessionPlan) -> list[ConflictItem]:
    if plan.room is None or plan.room.id is None:
        return []
    others = db.session.scalars(
        _others_overlapping(plan)
        .where(EventSession.room_id == plan.room.id)
        .order_by(EventSession.starts_at, EventSession.id)
    ).all()
    return [
        ConflictItem(
            ROOM_DOUBLE_BOOKED,
            _(
                "%(room)s already holds “%(other)s” from %(start)s to %(end)s.",
                room=plan.room.name,
                other=other.title,
                start=_time(other.starts_at, plan.event),
                end=_time(other.ends_at, plan.event),
            ),
            [plan.summary(), session_summary(other)],
            {"room": plan.room.name, "room_id": plan.room.id},
        )
        for other in others
    ]


def _speaker_clashes(plan: SessionPlan) -> list[ConflictItem]:
    names = [n for n in plan.speaker_names if n]
    if not names:
        return []
    rows = db.session.execute(
        _others_overlapping(plan)
        .add_columns(Speaker.name)
        .join(session_speakers, session_speakers.c.session_id == EventSession.id)
        .join(Speaker, Speaker.id == session_speakers.c.speaker_id)
        .where(Speaker.event_id == plan.event.id, Speaker.name.in_(names))
        .order_by(Speaker.name, EventSession.starts_at, EventSession.id)
    ).all()
    return [
        ConflictItem(
            SPEAKER_DOUBLE_BOOKED,
            _(
                "%(speaker)s also speaks at “%(other)s” from %(start)s to %(end)s.",
                speaker=name,
                other=other.title,
                start=_time(other.starts_at, plan.event),
                end=_time(other.ends_at, plan.event),
            ),
            [plan.summary(), session_summary(other)],
            {"speaker": name},
        )
        for other, name in rows
    ]


def _hours_and_capacity(plan: SessionPlan) -> list[ConflictItem]:
    found = []
    event = plan.event
    if plan.starts_at < event.starts_at or plan.ends_at > event.ends_at:
        found.append(_outside_hours(event, plan.summary()))
    if plan.room is not None and plan.capacity > plan.room.capacity:
        found.append(_above_room(plan.room, plan.capacity, plan.summary()))
    if plan.capacity < plan.seats_taken:
        found.append(
            ConflictItem(
                CAPACITY_BELOW_TAKEN,
                _(
                    "%(taken)d seats are already taken; the capacity can't go below that "
                    "(cancel or move attendees first).",
                    taken=plan.seats_taken,
                ),
                [plan.summary()],
                {"capacity": plan.capacity, "seats_taken": plan.seats_taken},
            )
        )
    return found


def _outside_hours(event: Event, summary: dict) -> ConflictItem:
    return ConflictItem(
        OUTSIDE_EVENT_HOURS,
        _(
            "“%(title)s” is outside the event's hours (%(start)s–%(end)s).",
            title=summary["title"],
            start=_time(event.starts_at, event),
            end=_time(event.ends_at, event),
        ),
        [summary],
        {
            "event_starts_at": event.starts_at.astimezone(event.tz).isoformat(),
            "event_ends_at": event.ends_at.astimezone(event.tz).isoformat(),
        },
    )


def _above_room(room: Room, capacity: int, summary: dict) -> ConflictItem:
    return ConflictItem(
        CAPACITY_ABOVE_ROOM,
        _(
            "“%(title)s” takes %(capacity)d people but %(room)s holds %(room_capacity)d.",
            title=summary["title"],
            capacity=capacity,
            room=room.name,
            room_capacity=room.capacity,
        ),
        [summary],
        {
            "room": room.name,
            "room_id": room.id,
            "capacity": capacity,
            "room_capacity": room.capacity,
        },
    )


def _attendee_overlaps(plan: SessionPlan) -> list[ConflictItem]:
    """Attendees confirmed here who hold a confirmed seat elsewhere at the new time."""
    by_session: dict[int, tuple[EventSession, list[Attendee]]] = {}
    for _registration, attendee, other in attendee_overlap_rows(plan):
        by_session.setdefault(other.id, (other, []))[1].append(attendee)
    return [
        _overlap_item(plan.summary(), other, attendees) for other, attendees in by_session.values()
    ]


def attendee_overlap_rows(plan: SessionPlan) -> list[tuple[Registration, Attendee, EventSession]]:
    """Each confirmed seat in the planned session whose attendee also holds a confirmed
    seat at another scheduled session overlapping the plan: (seat here, attendee, other)."""
    here = aliased(Registration)
    there = aliased(Registration)
    with db.session.no_autoflush:
        rows = db.session.execute(
            select(here, Attendee, EventSession)
            .join(Attendee, here.attendee_id == Attendee.id)
            .join(there, there.attendee_id == Attendee.id)
            .join(EventSession, EventSession.id == there.session_id)
            .where(
                here.session_id == plan.session_id,
                here.status == "confirmed",
                there.status == "confirmed",
                there.session_id != plan.session_id,
                EventSession.status == "scheduled",
                EventSession.overlaps(plan),
            )
            .order_by(EventSession.starts_at, EventSession.id, Attendee.name, Attendee.id)
        ).all()
    return [tuple(row) for row in rows]


def _overlap_item(summary: dict, other: EventSession, attendees: list[Attendee]) -> ConflictItem:
    return ConflictItem(
        ATTENDEE_OVERLAP,
        ngettext(
            "%(num)d attendee of “%(title)s” also has a seat at “%(other)s” at that time.",
            "%(num)d attendees of “%(title)s” also have a seat at “%(other)s” at that time.",
            len(attendees),
            title=summary["title"],
            other=other.title,
        ),
        [summary, session_summary(other)],
        {"count": len(attendees), "attendees": [attendee_summary(a) for a in attendees]},
    )


def attendee_summary(attendee: Attendee) -> dict:
    return {
        "id": attendee.id,
        "reference": attendee.reference,
        "name": attendee.name,
        "email": attendee.email,
    }


def sort_conflicts(items: list[ConflictItem]) -> list[ConflictItem]:
    return sorted(items, key=lambda c: (not c.is_hard, KINDS.index(c.kind)))


def enforce(items: list[ConflictItem], *, confirm: bool) -> None:
    """Raise Conflict when anything hard clashes, or anything soft without confirmation."""
    if not items:
        return
    hard = [c for c in items if c.is_hard]
    if hard:
        message = _("This change clashes with the programme: %(first)s", first=hard[0].message)
    elif confirm:
        return
    else:
        message = _("Please confirm: %(first)s", first=items[0].message)
    error = Conflict(message, [c.to_dict() for c in items])
    error.details["confirm_required"] = not hard
    raise error


def room_capacity_conflicts(room: Room, new_capacity: int) -> list[ConflictItem]:
    """Sessions in the room that take more people than the room would hold."""
    sessions = _scheduled_where(
        EventSession.room_id == room.id, EventSession.capacity > new_capacity
    )
    probe = Room(name=room.name, capacity=new_capacity)
    probe.id = room.id
    return [_above_room(probe, s.capacity, session_summary(s)) for s in sessions]


def _scheduled_where(*conditions) -> list[EventSession]:
    """Scheduled sessions that meet `conditions`, in programme order; a pending change
    is not flushed to find them (the check runs before the change is written)."""
    with db.session.no_autoflush:
        return db.session.scalars(
            select(EventSession)
            .where(EventSession.status == "scheduled", *conditions)
            .order_by(EventSession.starts_at, EventSession.id)
        ).all()


def hours_conflicts(event: Event, starts_at: datetime, ends_at: datetime) -> list[ConflictItem]:
    """Sessions that would fall outside new event hours."""
    sessions = _scheduled_where(
        EventSession.event_id == event.id,
        (EventSession.starts_at < starts_at) | (EventSession.ends_at > ends_at),
    )
    probe = Event(name=event.name, timezone=event.timezone, starts_at=starts_at, ends_at=ends_at)
    return [_outside_hours(probe, session_summary(s)) for s in sessions]


def event_conflicts(
    event: Event, all_sessions: list[EventSession] | None = None
) -> list[ConflictItem]:
    """Every current conflict of the event, hard first; warnings included.

    A constant number of queries whatever the size of the event: the sessions with rooms and
    speakers (three; none when the caller has them, as sessions_of loads them), and one for
    attendees holding overlapping confirmed seats.
    """
    all_sessions = sessions_of(event) if all_sessions is None else all_sessions
    sessions = [s for s in all_sessions if s.status == "scheduled"]
    found: list[ConflictItem] = []
    by_room: dict[int, list[EventSession]] = defaultdict(list)
    by_speaker: dict[str, list[EventSession]] = defaultdict(list)
    for session in sessions:
        if session.room is not None:
            by_room[session.room.id].append(session)
        for speaker in session.speakers:
            by_speaker[speaker.name].append(session)
        summary = session_summary(session)
        if session.starts_at < event.starts_at or session.ends_at > event.ends_at:
            found.append(_outside_hours(event, summary))
        if session.room is not None and session.capacity > session.room.capacity:
            found.append(_above_room(session.room, session.capacity, summary))
    for room_sessions in by_room.values():
        for first, second in overlapping_pairs(room_sessions):
            room = first.room
            found.append(
                ConflictItem(
                    ROOM_DOUBLE_BOOKED,
                    _(
                        "%(room)s holds “%(first)s” and “%(second)s” at the same time.",
                        room=room.name,
                        first=first.title,
                        second=second.title,
                    ),
                    [session_summary(first), session_summary(second)],
                    {"room": room.name, "room_id": room.id},
                )
            )
    for name in sorted(by_speaker):
        for first, second in overlapping_pairs(by_speaker[name]):
            found.append(
                ConflictItem(
                    SPEAKER_DOUBLE_BOOKED,
                    _(
                        "%(speaker)s speaks at “%(first)s” and “%(second)s” at the same time.",
                        speaker=name,
                        first=first.title,
                        second=second.title,
                    ),
                    [session_summary(first), session_summary(second)],
                    {"speaker": name},
                )
            )
    found += _existing_attendee_overlaps(event, sessions)
    return sort_conflicts(found)


def _clashing_attendees(event: Event):
    """The attendees holding confirmed seats at overlapping times: those with a session
    that starts before the latest end of their earlier ones. One pass over the event's
    confirmed seats in each attendee's start order (a window), not a join of every
    registration with every other one of the same attendee."""
    earlier_end = func.max(EventSession.ends_at).over(
        partition_by=Registration.attendee_id,
        order_by=(EventSession.starts_at, EventSession.id),
        rows=(None, -1),
    )
    held = (
        select(
            Registration.attendee_id,
            EventSession.starts_at,
            earlier_end.label("earlier_end"),
        )
        .join(EventSession, EventSession.id == Registration.session_id)
        .where(
            EventSession.event_id == event.id,
            EventSession.status == "scheduled",
            Registration.status == "confirmed",
        )
        .subquery()
    )
    return select(held.c.attendee_id).where(held.c.earlier_end > held.c.starts_at)


def _existing_attendee_overlaps(event: Event, sessions: list[EventSession]) -> list[ConflictItem]:
    """Pairs of sessions some attendee holds confirmed seats for at overlapping times: one
    query for the seats of the attendees who have such a pair (usually none); the pairs
    are found among the event's sessions, already loaded."""
    by_id = {s.id: s for s in sessions if s.status == "scheduled"}
    rows = db.session.execute(
        select(Attendee, Registration.session_id)
        .join(Registration, Registration.attendee_id == Attendee.id)
        .where(
            Attendee.id.in_(_clashing_attendees(event)),
            Registration.status == "confirmed",
        )
    ).all()
    held: dict[int, tuple[Attendee, list[EventSession]]] = {}
    for attendee, session_id in rows:
        if session_id in by_id:
            held.setdefault(attendee.id, (attendee, []))[1].append(by_id[session_id])
    pairs: dict[tuple[int, int], tuple[EventSession, EventSession, list[Attendee]]] = {}
    for attendee, seats in held.values():
        for one, other in overlapping_pairs(seats):
            one, other = sorted((one, other), key=lambda s: s.id)
            pairs.setdefault((one.id, other.id), (one, other, []))[2].append(attendee)
    ordered = sorted(pairs.values(), key=lambda p: (p[0].starts_at, p[0].id, p[1].id))
    return [
        _overlap_item(session_summary(one), other, sorted(attendees, key=lambda a: (a.name, a.id)))
        for one, other, attendees in ordered
    ]


def count_by_severity(items: list[ConflictItem]) -> dict[str, int]:
    counts = {HARD: 0, SOFT: 0}
    for item in items:
        counts[item.severity] += 1
    return counts


__all__ = [
    "ConflictItem",
    "SessionPlan",
    "attendee_overlap_rows",
    "check_session",
    "count_by_severity",
    "enforce",
    "event_conflicts",
]
