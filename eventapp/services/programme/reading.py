"""Reading the programme: sessions with seats, workshop rounds, time overlaps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload, undefer
from sqlalchemy.orm.base import instance_state

from ...database import loaded
from ...extensions import db
from ...models import Event, EventSession, Registration, Speaker
from ..errors import NotFound, RegistrationClosed
from ..validation import FieldErrors, clean_id_list

# Built once: every request that names an event runs it, and building costs about as
# much Python as running it.
# Whether it asks questions comes along (an EXISTS on an index): the registration form and
# its POST then read the questions only when there are some (questions_of).
_EVENT_BY_SLUG = (
    select(Event).where(Event.slug == bindparam("slug")).options(undefer(Event.asks_questions))
)


_EVENT_WITH_SESSIONS = (
    select(Event, EventSession)
    .outerjoin(
        EventSession,
        and_(
            EventSession.event_id == Event.id,
            EventSession.id.in_(bindparam("session_ids", expanding=True)),
        ),
    )
    .where(Event.slug == bindparam("slug"))
    .options(
        contains_eager(EventSession.event),  # session.event without a lazy load
        undefer(Event.asks_questions),  # a registration's answers need no query when none
    )
)


def get_event(slug: str, *, public: bool = True, with_sessions: object = None) -> Event:
    """The event by its slug; NotFound for an unknown one, or a draft when `public`.

    `with_sessions`: the session ids a registration names, as sent. Those of the event's
    sessions come in the same query and stay loaded for the request (load_sessions): one
    round trip, not two. A list the validation would refuse (not ids, or ids no column
    holds) is not queried; the registration's own checks then say what is wrong.
    """
    ids = clean_id_list(with_sessions, "session_ids", FieldErrors()) if with_sessions else []
    if ids:  # ids the validation refuses are not queried: the registration says what's wrong
        rows = db.session.execute(_EVENT_WITH_SESSIONS, {"slug": slug, "session_ids": ids}).all()
        event = rows[0][0] if rows else None
        # Held for the request: the identity map keeps objects only weakly.
        db.session.info.setdefault("preloaded", []).extend(s for _e, s in rows if s is not None)
    else:
        event = db.session.scalar(_EVENT_BY_SLUG, {"slug": slug})
    if event is None or (public and event.status == "draft"):
        raise NotFound(f"No event '{slug}'.", slug=slug)
    return event


_SESSIONS_BY_ID = select(EventSession).where(EventSession.id.in_(bindparam("ids", expanding=True)))


def load_sessions(ids: Iterable[int]) -> dict[int, EventSession]:
    """The sessions with these ids, by id (unknown ids left out).

    Sessions this transaction already loaded (the registration form's programme, or
    get_event's `with_sessions`) are taken from the session's identity map, which is what
    a query would hand back for them anyway; only the others are queried.
    """
    found = {}
    missing = []
    for session_id in ids:
        session = loaded(EventSession, session_id)
        if session is not None and not instance_state(session).expired_attributes:
            found[session_id] = session
        else:
            missing.append(session_id)
    if missing:
        found |= {s.id: s for s in db.session.scalars(_SESSIONS_BY_ID, {"ids": missing})}
    return found


def published_events() -> list[Event]:
    return list(
        db.session.scalars(select(Event).where(Event.status != "draft").order_by(Event.starts_at))
    )


def sessions_of(event: Event) -> list[EventSession]:
    """All sessions with room (joined: one each) and speakers, in two queries whatever
    their number."""
    return list(
        db.session.scalars(
            select(EventSession)
            .where(EventSession.event_id == event.id)
            .options(selectinload(EventSession.speakers), joinedload(EventSession.room))
            .order_by(EventSession.starts_at, EventSession.id)
        )
    )


def session_of(event: Event, session_id: int) -> EventSession:
    """One session of the event, with room and speakers; NotFound for another event's."""
    session = db.session.scalar(
        select(EventSession)
        .where(EventSession.event_id == event.id, EventSession.id == session_id)
        .options(selectinload(EventSession.speakers), selectinload(EventSession.room))
    )
    if session is None:
        raise NotFound(_("This event has no such session."))
    return session


def speaker_of(event: Event, speaker_id: int) -> Speaker:
    """One speaker of the event with their sessions (room loaded), in programme order."""
    speaker = db.session.scalar(
        select(Speaker)
        .where(Speaker.event_id == event.id, Speaker.id == speaker_id)
        .options(selectinload(Speaker.sessions).selectinload(EventSession.room))
    )
    if speaker is None:
        raise NotFound(_("This event has no such speaker."))
    return speaker


def waitlist_lengths(event: Event) -> dict[int, int]:
    rows = db.session.execute(
        select(Registration.session_id, func.count())
        .join(EventSession, EventSession.id == Registration.session_id)
        .where(EventSession.event_id == event.id, Registration.status == "waitlisted")
        .group_by(Registration.session_id)
    )
    return dict(rows.all())


@dataclass
class Round:
    """Workshops that run at the same time: an attendee picks at most one of them."""

    starts_at: datetime
    ends_at: datetime
    sessions: list[EventSession] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.starts_at.strftime("%Y%m%dT%H%M")


def workshop_rounds(sessions: Iterable[EventSession]) -> list[Round]:
    """Group scheduled workshops into rounds: chains of sessions that overlap in time."""
    rounds: list[Round] = []
    workshops = sorted(
        (s for s in sessions if s.kind == "workshop" and s.status == "scheduled"),
        key=lambda s: (s.starts_at, s.id),
    )
    for session in workshops:
        if rounds and session.starts_at < rounds[-1].ends_at:
            rounds[-1].sessions.append(session)
            rounds[-1].ends_at = max(rounds[-1].ends_at, session.ends_at)
        else:
            rounds.append(Round(session.starts_at, session.ends_at, [session]))
    return rounds


def overlapping_pairs(sessions: list[EventSession]) -> list[tuple[EventSession, EventSession]]:
    """Every pair that overlaps (EventSession.overlaps), earlier start first.

    In start order, once a later session does not overlap `first`, none after it does."""
    ordered = sorted(sessions, key=lambda s: (s.starts_at, s.id))
    pairs = []
    for i, first in enumerate(ordered):
        for second in ordered[i + 1 :]:
            if not first.overlaps(second):
                break
            pairs.append((first, second))
    return pairs


def session_summary(session) -> dict:
    """How an error names a session: id, title and local times (of a session, or of a
    conflicts.SessionPlan: a session as it would be)."""
    tz = session.event.tz
    return {
        "id": session.id,
        "title": session.title,
        "starts_at": session.starts_at.astimezone(tz).isoformat(),
        "ends_at": session.ends_at.astimezone(tz).isoformat(),
    }


def group_by_day(sessions: list[EventSession], tz) -> list[tuple[datetime, list]]:
    """Sessions per local day, then per start time: the programme page's structure."""
    days: dict = {}
    for session in sessions:
        local_start = session.starts_at.astimezone(tz)
        slots = days.setdefault(local_start.date(), {})
        slots.setdefault(session.starts_at, []).append(session)
    return [
        (day, sorted(slots.items(), key=lambda item: item[0]))
        for day, slots in sorted(days.items())
    ]


def rooms_in_use(sessions: list[EventSession]) -> list:
    rooms = {s.room.id: s.room for s in sessions if s.room is not None}
    return sorted(rooms.values(), key=lambda r: (-r.capacity, r.name))


def ensure_open(event: Event, now: datetime) -> None:
    if event.status != "published":
        raise RegistrationClosed(_("Registration for this event is closed."))
    if event.registration_opens_at and now < event.registration_opens_at:
        raise RegistrationClosed(_("Registration for this event has not opened yet."))
    closes = event.registration_closes_at or event.ends_at
    if now >= closes:
        raise RegistrationClosed(_("Registration for this event is closed."))


def closed_reason(event: Event, now: datetime) -> str | None:
    """Why registration is closed now, in words; None when it is open."""
    try:
        ensure_open(event, now)
    except RegistrationClosed as closed:
        return closed.message
    return None


def is_registration_open(event: Event, now: datetime) -> bool:
    return closed_reason(event, now) is None
