"""What a calendar file would contain, cheaply: when the programme (or an attendee's part of
it) last changed, for DTSTAMP and Last-Modified, and a version hash of everything a feed
shows, for its ETag, read from a few narrow queries instead of building the calendar."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from flask import current_app, url_for
from sqlalchemy import func, select

from ...extensions import db
from ...models import (
    Attendee,
    AuditEntry,
    EventSession,
    Registration,
    Room,
    Speaker,
    session_speakers,
)
from ...models import Event as EventModel

PRODID = "-//eventapp//eventapp calendar 1.0//EN"


# What the programme's calendar data is made of (audit object types): a message sent or an
# attendee checked in changes no calendar, so it does not date the feeds.
PROGRAMME_OBJECTS = ("event", "event_session", "room", "speaker")


def programme_changed_at(event: EventModel) -> datetime:
    """When what the programme's files show last changed: DTSTAMP and Last-Modified.

    Not the event row's own update time, which misses every session change (issue 17), and
    not the sessions' update times, which every seat taken moves. Every change of the
    programme is audited (services record it with its `now`), so the newest audit entry of
    the event, or the event's or a session's creation when nothing was audited since, is
    stable while nothing changes and later after every change.
    """
    return _changed_at(event, None)


def personal_changed_at(attendee: Attendee) -> datetime:
    """programme_changed_at, or the attendee's own latest change when that is newer."""
    return _changed_at(attendee.event, attendee)


def _changed_at(event: EventModel, attendee: Attendee | None) -> datetime:
    """The newest of those times, read in one statement."""
    latest = [
        select(func.max(AuditEntry.created_at))
        .where(
            AuditEntry.event_id == event.id,
            AuditEntry.object_type.in_(PROGRAMME_OBJECTS),
        )
        .scalar_subquery(),
        select(func.max(EventSession.created_at))
        .where(EventSession.event_id == event.id)
        .scalar_subquery(),
    ]
    known = [event.updated_at, event.created_at]
    if attendee is not None:
        latest.append(
            select(func.max(Registration.updated_at))
            .where(Registration.attendee_id == attendee.id)
            .scalar_subquery()
        )
        known.append(attendee.updated_at)
    row = db.session.execute(select(*latest)).one()
    return max(_utc(t) for t in (*row, *known) if t)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def programme_version(
    event: EventModel, *, session_id: int | None = None, changed_at: datetime | None = None
) -> str:
    """A hash of everything the programme feed (or one session's file) shows.

    Computed from a few narrow queries instead of building the calendar, so a calendar app
    revalidating its subscription gets its 304 without the cost of serialising hundreds of
    events, and a built feed can be cached under this key. Seat counts are not part of it:
    they change all the time and show nowhere in a calendar.
    """
    changed_at = changed_at or programme_changed_at(event)
    return _digest(_event_facts(event), _session_facts(event, session_id), str(changed_at))


def personal_version(attendee: Attendee, name: str, *, changed_at: datetime | None = None) -> str:
    """A hash of everything `personal_feed(attendee, name)` shows."""
    changed_at = changed_at or personal_changed_at(attendee)
    registrations = sorted(
        db.session.execute(
            select(Registration.session_id, Registration.status, Registration.sequence).where(
                Registration.attendee_id == attendee.id
            )
        ).all()
    )
    return _digest(
        _event_facts(attendee.event),
        _session_facts(attendee.event, None),
        (attendee.id, attendee.status, attendee.feed_nonce, attendee.locale, name),
        registrations,
        str(changed_at),
    )


# What a calendar shows of the event and of each session (in both languages): the versions
# hash these, so a change to any of them gives the feeds a new ETag.
EVENT_FACTS = "id slug name name_translated default_locale venue timezone organiser_email"
SESSION_FACTS = (
    "id title title_translated description description_translated starts_at ends_at status "
    "sequence created_at"
)


def _event_facts(event: EventModel) -> tuple:
    return tuple(getattr(event, key) for key in EVENT_FACTS.split())


def _session_facts(event: EventModel, session_id: int | None) -> tuple:
    columns = [getattr(EventSession, key) for key in SESSION_FACTS.split()]
    query = (
        select(*columns, Room.name, Room.name_translated)
        .outerjoin(Room, Room.id == EventSession.room_id)
        .where(EventSession.event_id == event.id)
        .order_by(EventSession.id)
    )
    speakers_query = (
        select(session_speakers.c.session_id, Speaker.name, Speaker.organisation)
        .join(Speaker, Speaker.id == session_speakers.c.speaker_id)
        .where(Speaker.event_id == event.id)
        .order_by(session_speakers.c.session_id, Speaker.name)
    )
    if session_id is not None:
        query = query.where(EventSession.id == session_id)
        speakers_query = speakers_query.where(session_speakers.c.session_id == session_id)
    return tuple(map(tuple, db.session.execute(query))), tuple(
        map(tuple, db.session.execute(speakers_query))
    )


def _digest(*facts) -> str:
    context = (PRODID, current_app.config["UID_DOMAIN"], url_for("public.index", _external=True))
    return hashlib.sha256(repr((context, facts)).encode("utf-8")).hexdigest()[:32]
