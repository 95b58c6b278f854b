"""A session's life: created, edited, moved, resized, cancelled or restored.

A move checks the room, the speakers, the event's hours and the attendees' other sessions;
a capacity below the seats taken is refused, a larger one fills seats from the waiting list;
attendees hear of a move or a cancellation through the outbox (programme/notifications.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import update

from ....extensions import db
from ....models import Event, EventSession, Organiser, Registration, Room
from ... import audit
from ...allocation.preferences import ranking_change, rankings_warning, tell_rankers
from ...errors import Conflict, InvalidInput, NotFound
from ...registration.waitlist import promote_from_waitlist
from .. import conflicts, notifications
from ..cleaning import clean_session_data, ensure_order
from ..conflicts import ConflictItem, SessionPlan
from . import changes
from .changes import enforce_new, record_change
from .rooms import room_named, speakers_named

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
    room = room_named(event, values.get("room_id"))
    capacity = _default_capacity(values, room)
    changes.lock_event(event)
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
        room = room_named(event, values["room_id"])
    capacity = values.get("capacity", session.capacity)
    speaker_names = values.get("speakers", [s.name for s in session.speakers])
    status = values.get("status", session.status)
    restored = session.status == "cancelled" and status == "scheduled"
    moved = (starts_at, ends_at) != (session.starts_at, session.ends_at) or (
        room is not session.room
    )
    changes.lock_event(event)
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
    before_edit = [] if restored else conflicts.check_session(_plan_of(session))
    enforce_new(found, before_edit, confirm=confirm)

    before = audit.snapshot(session)
    previous = notifications.snapshot(session)
    old_capacity = session.capacity
    if capacity != old_capacity:
        set_capacity(session, capacity)
    for key in ("title", "description", "kind", "starts_at", "ends_at", "status"):
        if key in values:
            setattr(session, key, values[key])
    session.room = room
    if "speakers" in values:
        session.speakers = speakers_named(event, speaker_names)
    change = SessionChange(session, moved=moved and not restored, warnings=found)
    retitled = not change.moved and not restored and before.get("title") != session.title
    if (
        not change.moved
        and not retitled
        and (
            restored
            or any(before.get(k) != audit.snapshot(session).get(k) for k in CALENDAR_FIELDS)
        )
    ):
        session.sequence += 1  # a move's or a new title's notification bumps it itself
    db.session.flush()
    if change.moved and session.status == "scheduled":
        notifications.session_moved(session, now, previous=previous)
    elif retitled:
        notifications.sessions_changed([session], now)
    if capacity > old_capacity or restored:
        change.promoted = promote_from_waitlist(session, now)
    if touched:
        tell_rankers(session, touched, now, actor)
    action = "session.moved" if change.moved else "session.updated"
    record_change(actor, "session.restored" if restored else action, session, before, now)
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


def set_capacity(session: EventSession, capacity: int) -> None:
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
    changes.lock_event(session.event)
    before = audit.snapshot(session)
    tell_rankers(session, "cancelled", now, actor)  # before the status changes: still ranked
    # Sets the status, bumps the sequence, ends the registrations and queues the emails.
    told = notifications.session_cancelled(session, now)
    record_change(actor, "session.cancelled", session, before, now)
    return SessionChange(session, cancelled=True, notified=told)
