"""Building the programme: events, rooms, speakers and sessions; moving and cancelling.

One code path for the organiser forms, the organiser API and the import. Each function
takes the acting organiser and `now`, checks conflicts (services/conflicts.py) on the state
it is about to write, writes, records an audit entry, queues the attendees' emails
(services/notifications.py) and flushes; the caller commits, or rolls back on a DomainError.

Programme changes of one event are serialised with a row lock on the event (PostgreSQL;
SQLite's BEGIN IMMEDIATE serialises all writers), so two organisers can't both book a room
that was free when each of them looked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import Event, EventSession, Organiser, Registration, Room, Speaker
from .. import audit
from ..allocation.preferences import ranking_change, rankings_warning, tell_rankers
from ..errors import AlreadyExists, Conflict, InvalidInput, NotFound
from ..registration.waitlist import promote_from_waitlist
from . import conflicts, notifications
from .cleaning import (
    clean_event_data,
    clean_room_data,
    clean_session_data,
    clean_speaker_data,
    ensure_order,
)
from .conflicts import ConflictItem, SessionPlan

KEEP_ROOM = object()  # move_session(): leave the room as it is

# Changes an attendee's calendar must pick up: they bump the session's SEQUENCE.
CALENDAR_FIELDS = ("title", "description", "starts_at", "ends_at", "room_id")


@dataclass
class SessionChange:
    """What an update did, for the caller to report."""

    session: EventSession
    moved: bool = False
    cancelled: bool = False
    promoted: list[Registration] = field(default_factory=list)
    notified: int = 0
    warnings: list[ConflictItem] = field(default_factory=list)


class ScheduleRace:
    """Test-only knobs: pause between the conflict check and the write, or drop the lock.

    With `locked = False` two organisers can book one room at once (the control test shows
    it on PostgreSQL), so the real test proves the lock is what prevents it.
    """

    pause_seconds: float = 0.0
    locked: bool = True


def lock_event(event: Event) -> None:
    """Serialise programme changes of one event (FOR NO KEY UPDATE: registrations that only
    reference the event row are not blocked)."""
    if not ScheduleRace.locked:
        return
    db.session.execute(select(Event.id).where(Event.id == event.id).with_for_update(key_share=True))


# -- events ---------------------------------------------------------------------------------


def get_event_for_organiser(slug: str) -> Event:
    """Any event, drafts included (organisers see what the public doesn't)."""
    event = db.session.scalar(select(Event).where(Event.slug == slug))
    if event is None:
        raise NotFound(_("No event '%(slug)s'.", slug=slug), slug=slug)
    return event


def create_event(actor: Organiser | None, data: dict, now: datetime) -> Event:
    values = clean_event_data(data, partial=False)
    ensure_order(values["starts_at"], values["ends_at"])
    _ensure_slug_free(values["slug"])
    event = Event(**values, created_at=now)
    db.session.add(event)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise _slug_taken() from None
    audit.record(actor, "event.created", event, None, audit.snapshot(event), now=now)
    return event


def _ensure_slug_free(slug: str, *, except_id: int | None = None) -> None:
    existing = db.session.scalar(select(Event.id).where(Event.slug == slug))
    if existing is not None and existing != except_id:
        raise _slug_taken()


def _slug_taken() -> AlreadyExists:
    return AlreadyExists(
        _("This slug is taken."), {"slug": [_("Another event already uses this slug.")]}
    )


def update_event(
    actor: Organiser | None, event: Event, data: dict, now: datetime, *, confirm: bool = False
) -> Event:
    """Change an event; new hours that leave sessions outside them need confirmation."""
    values = clean_event_data(data, partial=True, current_tz=event.timezone)
    lock_event(event)
    starts_at = values.get("starts_at", event.starts_at)
    ends_at = values.get("ends_at", event.ends_at)
    ensure_order(starts_at, ends_at)
    if "slug" in values:
        _ensure_slug_free(values["slug"], except_id=event.id)
    if (starts_at, ends_at) != (event.starts_at, event.ends_at):
        new = conflicts.hours_conflicts(event, starts_at, ends_at)
        old = {_key(c) for c in conflicts.hours_conflicts(event, event.starts_at, event.ends_at)}
        conflicts.enforce([c for c in new if _key(c) not in old], confirm=confirm)
    before = audit.snapshot(event)
    for key, value in values.items():
        setattr(event, key, value)
    db.session.flush()
    _record_change(actor, "event.updated", event, before, now)
    return event


def move_event(
    actor: Organiser | None, event: Event, starts_at: object, now: datetime
) -> list[EventSession]:
    """Move the whole event to a new start: every session keeps its place relative to it,
    so nothing new clashes. Attendees of each moved session are emailed. The registration
    deadline moves along; the opening date stays. Returns the sessions moved."""
    values = clean_event_data({"starts_at": starts_at}, partial=True, current_tz=event.timezone)
    delta = values["starts_at"] - event.starts_at
    if not delta:
        return []
    lock_event(event)
    before = audit.snapshot(event)
    event.starts_at += delta
    event.ends_at += delta
    if event.registration_closes_at is not None:
        event.registration_closes_at += delta
    moved = []
    for session in sessions_of_event(event):
        previous = _notifications().snapshot(session)
        session.starts_at += delta
        session.ends_at += delta
        db.session.flush()
        if session.status == "scheduled":
            notify_session_moved(session, now, previous)
            moved.append(session)
    db.session.flush()
    after = audit.snapshot(event, extra={"sessions_moved": len(moved)})
    audit.record(actor, "event.moved", event, *audit.changed_only(before, after), now=now)
    return moved


def cancel_event(actor: Organiser | None, event: Event, now: datetime) -> list[EventSession]:
    """Cancel every scheduled session (seats released) and close the event to registration.

    Each attendee gets one email for the whole event, not one per session (see
    notifications.event_cancelled); an event already cancelled sends nothing new. Returns the
    sessions cancelled."""
    lock_event(event)
    before = audit.snapshot(event)
    cancelled = [s for s in sessions_of_event(event) if s.status == "scheduled"]
    notify_event_cancelled(cancelled, now)
    event.status = "closed"
    db.session.flush()
    after = audit.snapshot(event, extra={"sessions_cancelled": len(cancelled)})
    audit.record(actor, "event.cancelled", event, *audit.changed_only(before, after), now=now)
    return cancelled


def sessions_of_event(event: Event) -> list[EventSession]:
    return list(
        db.session.scalars(
            select(EventSession)
            .where(EventSession.event_id == event.id)
            .order_by(EventSession.starts_at, EventSession.id)
        )
    )


def _record_change(actor, action: str, obj, before: dict, now: datetime) -> None:
    changed_before, changed_after = audit.changed_only(before, audit.snapshot(obj))
    if changed_after:
        audit.record(actor, action, obj, changed_before, changed_after, now=now)


# -- rooms and speakers ---------------------------------------------------------------------


def create_room(actor: Organiser | None, event: Event, data: dict, now: datetime) -> Room:
    values = clean_room_data(data, partial=False)
    _ensure_room_name_free(event, values["name"])
    room = Room(event=event, **values)
    db.session.add(room)
    db.session.flush()
    audit.record(actor, "room.created", room, None, audit.snapshot(room), now=now)
    return room


def _ensure_room_name_free(event: Event, name: str, *, except_id: int | None = None) -> None:
    existing = db.session.scalar(
        select(Room.id).where(Room.event_id == event.id, Room.name == name)
    )
    if existing is not None and existing != except_id:
        raise AlreadyExists(
            _("This event already has a room with this name."),
            {"name": [_("This event already has a room with this name.")]},
        )


def update_room(
    actor: Organiser | None, room: Room, data: dict, now: datetime, *, confirm: bool = False
) -> Room:
    """Rename or resize a room; sessions that would then exceed it need confirmation."""
    values = clean_room_data(data, partial=True)
    lock_event(room.event)
    if "name" in values:
        _ensure_room_name_free(room.event, values["name"], except_id=room.id)
    if "capacity" in values and values["capacity"] < room.capacity:
        new = conflicts.room_capacity_conflicts(room, values["capacity"])
        old = {_key(c) for c in conflicts.room_capacity_conflicts(room, room.capacity)}
        conflicts.enforce([c for c in new if _key(c) not in old], confirm=confirm)
    before = audit.snapshot(room)
    for key, value in values.items():
        setattr(room, key, value)
    db.session.flush()
    _record_change(actor, "room.updated", room, before, now)
    return room


def get_room(event: Event, room_id: int) -> Room:
    room = db.session.get(Room, room_id)
    if room is None or room.event_id != event.id:
        raise NotFound(_("No such room in this event."))
    return room


def _room_field(event: Event, room_id: int | None) -> Room | None:
    """The room a session names, which must belong to the session's event."""
    if not room_id:
        return None
    try:
        return get_room(event, room_id)
    except NotFound:
        message = _("No such room in this event.")
        raise InvalidInput(message, {"room_id": [message]}) from None


def create_speaker(actor: Organiser | None, event: Event, data: dict, now: datetime) -> Speaker:
    values = clean_speaker_data(data, partial=False)
    _ensure_speaker_name_free(event, values["name"])
    speaker = Speaker(event=event, **values)
    db.session.add(speaker)
    db.session.flush()
    audit.record(actor, "speaker.created", speaker, None, audit.snapshot(speaker), now=now)
    return speaker


def update_speaker(actor: Organiser | None, speaker: Speaker, data: dict, now: datetime) -> Speaker:
    values = clean_speaker_data(data, partial=True)
    if "name" in values:
        _ensure_speaker_name_free(speaker.event, values["name"], except_id=speaker.id)
    before = audit.snapshot(speaker)
    for key, value in values.items():
        setattr(speaker, key, value)
    db.session.flush()
    _record_change(actor, "speaker.updated", speaker, before, now)
    return speaker


def _ensure_speaker_name_free(event: Event, name: str, *, except_id: int | None = None) -> None:
    existing = db.session.scalar(
        select(Speaker.id).where(Speaker.event_id == event.id, Speaker.name == name)
    )
    if existing is not None and existing != except_id:
        raise AlreadyExists(
            _("This event already has a speaker with this name."),
            {"name": [_("This event already has a speaker with this name.")]},
        )


def speakers_named(event: Event, names: list[str]) -> list[Speaker]:
    """The event's speakers with these names, created for names not seen before."""
    if not names:
        return []
    with db.session.no_autoflush:
        known = {
            s.name: s
            for s in db.session.scalars(
                select(Speaker).where(Speaker.event_id == event.id, Speaker.name.in_(names))
            )
        }
    speakers = []
    for name in names:
        if name not in known:
            known[name] = Speaker(event=event, name=name)
            db.session.add(known[name])
        speakers.append(known[name])
    return speakers


# -- sessions -------------------------------------------------------------------------------


def get_session(session_id: int, event: Event | None = None) -> EventSession:
    session = db.session.get(EventSession, session_id)
    if session is None or (event is not None and session.event_id != event.id):
        raise NotFound(_("No such session."), session_id=session_id)
    return session


def create_session(
    actor: Organiser | None, event: Event, data: dict, now: datetime, *, confirm: bool = False
) -> SessionChange:
    """Add a session; hard conflicts raise Conflict, soft ones do unless `confirm`."""
    values = clean_session_data(data, tz=event.timezone, partial=False)
    ensure_order(values["starts_at"], values["ends_at"])
    room = _room_field(event, values.get("room_id"))
    capacity = _default_capacity(values, room)
    lock_event(event)
    plan = SessionPlan(
        event=event,
        title=values["title"],
        starts_at=values["starts_at"],
        ends_at=values["ends_at"],
        room=room,
        capacity=capacity,
        speaker_names=values.get("speakers", []),
    )
    found = conflicts.check_session(plan)
    conflicts.enforce(found, confirm=confirm)
    if ScheduleRace.pause_seconds:
        time.sleep(ScheduleRace.pause_seconds)
    session = EventSession(
        event=event,
        kind=values["kind"],
        title=values["title"],
        description=values.get("description", ""),
        starts_at=values["starts_at"],
        ends_at=values["ends_at"],
        room=room,
        capacity=capacity,
        status=values.get("status", "scheduled"),
        created_at=now,
    )
    session.speakers = speakers_named(event, values.get("speakers", []))
    db.session.add(session)
    db.session.flush()
    audit.record(actor, "session.created", session, None, audit.snapshot(session), now=now)
    return SessionChange(session, warnings=found)


def _default_capacity(values: dict, room: Room | None) -> int:
    """A session seats what its room holds unless told otherwise; a break needs no seats."""
    if "capacity" in values:
        return values["capacity"]
    if room is not None:
        return room.capacity
    if values.get("kind") == "other":
        return 0
    raise InvalidInput(
        _("Give a capacity, or a room whose capacity the session takes."),
        {"capacity": [_("Give a capacity, or choose a room.")]},
    )


def update_session(
    actor: Organiser | None,
    session: EventSession,
    data: dict,
    now: datetime,
    *,
    confirm: bool = False,
) -> SessionChange:
    """Edit, move (time or room), resize, cancel or restore a session.

    A move checks the room, the speakers, the event's hours and the attendees' other
    sessions; a capacity below the seats taken is refused, a larger one fills seats from the
    waiting list. Attendees hear of a move or cancellation through the outbox.
    """
    event = session.event
    values = clean_session_data(data, tz=event.timezone, partial=True)
    touched = ranking_change(session, values)
    rankings = rankings_warning(session, touched)
    if values.get("status") == "cancelled" and session.status == "scheduled":
        conflicts.enforce(rankings, confirm=confirm)
        other = {k: v for k, v in values.items() if k != "status"}
        if other:
            update_session(actor, session, other, now, confirm=True)
        return cancel_session(actor, session, now)
    starts_at = values.get("starts_at", session.starts_at)
    ends_at = values.get("ends_at", session.ends_at)
    ensure_order(starts_at, ends_at)
    room = session.room
    if "room_id" in values:
        room = _room_field(event, values["room_id"])
    capacity = values.get("capacity", session.capacity)
    speaker_names = values.get("speakers", [s.name for s in session.speakers])
    status = values.get("status", session.status)
    restored = session.status == "cancelled" and status == "scheduled"
    moved = (starts_at, ends_at) != (session.starts_at, session.ends_at) or (
        room is not session.room
    )
    lock_event(event)
    db.session.refresh(session, ["seats_taken", "capacity", "status"])

    plan = SessionPlan(
        event=event,
        title=values.get("title", session.title),
        starts_at=starts_at,
        ends_at=ends_at,
        room=room,
        capacity=capacity,
        speaker_names=speaker_names,
        session_id=session.id,
        seats_taken=session.seats_taken,
        status=status,
        check_attendees=restored or (starts_at, ends_at) != (session.starts_at, session.ends_at),
    )
    found = conflicts.check_session(plan) + rankings
    already = set() if restored else {_key(c) for c in conflicts.check_session(_plan_of(session))}
    # Conflicts the session already had (accepted warnings, or old data) don't block an
    # unrelated edit; the conflicts panel keeps showing them.
    conflicts.enforce([c for c in found if _key(c) not in already], confirm=confirm)

    before = audit.snapshot(session)
    previous = _notifications().snapshot(session)
    old_capacity = session.capacity
    if capacity != old_capacity:
        _set_capacity(session, capacity)
    for key in ("title", "description", "kind", "starts_at", "ends_at", "status"):
        if key in values:
            setattr(session, key, values[key])
    session.room = room
    if "speakers" in values:
        session.speakers = speakers_named(event, speaker_names)
    change = SessionChange(session, moved=moved and not restored, warnings=found)
    if not change.moved and (
        restored or any(before.get(k) != audit.snapshot(session).get(k) for k in CALENDAR_FIELDS)
    ):
        session.sequence += 1  # a move's notification bumps it itself
    db.session.flush()
    if change.moved and session.status == "scheduled":
        notify_session_moved(session, now, previous)
    if capacity > old_capacity or restored:
        change.promoted = promote_from_waitlist(session, now)
    if touched:
        tell_rankers(session, touched, now, actor)
    action = "session.moved" if change.moved else "session.updated"
    _record_change(actor, "session.restored" if restored else action, session, before, now)
    return change


def _plan_of(session: EventSession) -> SessionPlan:
    """The session as it is now, to tell new conflicts from ones accepted before."""
    return SessionPlan(
        event=session.event,
        title=session.title,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        room=session.room,
        capacity=session.capacity,
        speaker_names=[s.name for s in session.speakers],
        session_id=session.id,
        seats_taken=session.seats_taken,
        status=session.status,
    )


def _key(item: ConflictItem) -> tuple:
    """What makes a conflict 'the same one' before and after an edit."""
    others = tuple(sorted(s["id"] or 0 for s in item.sessions))
    return (item.kind, others, item.details.get("speaker"), item.details.get("room_id"))


def _set_capacity(session: EventSession, capacity: int) -> None:
    """Change the capacity only while the seats taken still fit, checked in the UPDATE itself
    so a registration committing meanwhile can't slip past (the CHECK backs this up)."""
    result = db.session.execute(
        update(EventSession)
        .where(EventSession.id == session.id, EventSession.seats_taken <= capacity)
        .values(capacity=capacity)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(session, ["capacity", "seats_taken"])
    if result.rowcount != 1:
        item = ConflictItem(
            conflicts.CAPACITY_BELOW_TAKEN,
            _(
                "%(taken)d seats are already taken; the capacity can't go below that "
                "(cancel or move attendees first).",
                taken=session.seats_taken,
            ),
            [conflicts.session_summary(session)],
            {"capacity": capacity, "seats_taken": session.seats_taken},
        )
        raise Conflict(item.message, [item.to_dict()])


def move_session(
    actor: Organiser | None,
    session: EventSession,
    *,
    starts_at,
    ends_at,
    room_id=KEEP_ROOM,
    now: datetime,
    confirm: bool = False,
) -> SessionChange:
    """Move a session in time and/or to another room (`room_id=None` takes it out of rooms)."""
    data = {"starts_at": starts_at, "ends_at": ends_at}
    if room_id is not KEEP_ROOM:
        data["room_id"] = room_id
    return update_session(actor, session, data, now, confirm=confirm)


def cancel_session(actor: Organiser | None, session: EventSession, now: datetime) -> SessionChange:
    """Cancel a session: it stays in the programme as cancelled, its attendees keep their
    registrations (so they can be told and their calendars updated) and are emailed."""
    if session.status == "cancelled":
        return SessionChange(session, cancelled=True)
    lock_event(session.event)
    before = audit.snapshot(session)
    tell_rankers(session, "cancelled", now, actor)  # before the status changes: still ranked
    # Sets the status, bumps the sequence, ends the registrations and queues the emails.
    told = notify_session_cancelled(session, now)
    _record_change(actor, "session.cancelled", session, before, now)
    return SessionChange(session, cancelled=True, notified=told)


# -- attendees' emails ------------------------------------------------------------------------


def notify_session_moved(session: EventSession, now: datetime, previous: dict) -> int:
    """Queue the update emails of a moved session (services/notifications.py)."""
    return _notifications().session_moved(session, now, previous=previous)


def notify_session_cancelled(session: EventSession, now: datetime) -> int:
    return _notifications().session_cancelled(session, now)


def notify_event_cancelled(sessions: list[EventSession], now: datetime) -> int:
    return _notifications().event_cancelled(sessions, now)


def _notifications():
    """services.notifications, imported late: it imports the models and mail rendering."""

    return notifications
