"""A session's life: created, edited, moved, resized, cancelled or restored.

A move checks the room, the speakers, the event's hours and the attendees' other sessions;
a capacity below the seats taken is refused, a larger one fills seats from the waiting list;
attendees hear of a move or a cancellation through the outbox (programme/notifications.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import update

from ....extensions import db
from ....models import Event, EventSession, Organiser, Registration, Room
from ....models.event import CONTENT_LOCALES
from ... import audit
from ...allocation.preferences import ranking_change, rankings_warning, tell_rankers
from ...errors import Conflict, InvalidInput, NotFound
from ...registration.waitlist import promote_from_waitlist
from .. import conflicts, notifications
from ..cleaning import clean_session_data, ensure_order
from ..conflicts import ConflictItem, SessionPlan
from . import changes, clashes
from .changes import TELL, Telling, enforce_new, record_change
from .rooms import room_named, speakers_named

KEEP_ROOM = object()  # move_session(): leave the room as it is

# Changes an attendee's calendar must pick up: they bump the session's SEQUENCE.
CALENDAR_FIELDS = (
    "title",
    "title_translated",
    "description",
    "description_translated",
    "starts_at",
    "ends_at",
    "room_id",
)
# What a calendar shows as the session's name (SUMMARY), in either language.
TITLE_FIELDS = ("title", "title_translated")
# The texts a session is created and edited with, in the event's language and its other one.
TEXT_FIELDS = ("title", "title_translated", "description", "description_translated")


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
        **{key: values.get(key, "") for key in TEXT_FIELDS},
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


@dataclass
class SessionEdit:
    """What an edit of a session would do, read before anything is written: the save
    (update_session) and the preview (impact.py) read an edit the same way."""

    session: EventSession
    values: dict
    plan: SessionPlan
    room: Room | None
    restored: bool
    moved: bool  # a new time or room, not a restore
    retitled: bool  # a new title and nothing else the attendees hear of
    retitled_in: frozenset[str] = frozenset()  # the content languages whose title changes

    @property
    def cancelling(self) -> bool:
        return self.values.get("status") == "cancelled" and self.session.status == "scheduled"

    @property
    def emails_move(self) -> bool:
        return self.moved and self.plan.status == "scheduled"


def read_edit(session: EventSession, data: dict) -> SessionEdit:
    """Clean an edit's input and say what it changes (InvalidInput for bad input)."""
    event = session.event
    values = clean_session_data(data, tz=event.timezone, partial=True)
    starts_at = values.get("starts_at", session.starts_at)
    ends_at = values.get("ends_at", session.ends_at)
    ensure_order(starts_at, ends_at)
    room = session.room
    if "room_id" in values:
        room = room_named(event, values["room_id"])
    status = values.get("status", session.status)
    restored = session.status == "cancelled" and status == "scheduled"
    new_time = (starts_at, ends_at) != (session.starts_at, session.ends_at)
    moved = (new_time or room is not session.room) and not restored
    plan = SessionPlan(
        event=event,
        title=values.get("title", session.title),
        starts_at=starts_at,
        ends_at=ends_at,
        room=room,
        capacity=values.get("capacity", session.capacity),
        speaker_names=values.get("speakers", [s.name for s in session.speakers]),
        session_id=session.id,
        seats_taken=session.seats_taken,
        status=status,
        check_attendees=restored or new_time,
    )
    retitled = (
        not moved
        and not restored
        and any(key in values and values[key] != getattr(session, key) for key in TITLE_FIELDS)
    )
    before, after = titles_shown(session, {}), titles_shown(session, values)
    retitled_in = frozenset(locale for locale in before if before[locale] != after[locale])
    return SessionEdit(session, values, plan, room, restored, moved, retitled, retitled_in)


def titles_shown(session: EventSession, values: dict) -> dict[str, str]:
    """The title each content language shows (calendars, emails) once `values` are applied:
    the rule of the model's `title_in`, on values not yet written."""
    title = values.get("title", session.title) or ""
    translated = values.get("title_translated", session.title_translated) or ""
    main = session.event.default_locale
    return {
        locale: (title or translated) if locale == main else (translated or title)
        for locale in CONTENT_LOCALES
    }


def update_session(
    actor: Organiser | None,
    session: EventSession,
    data: dict,
    now: datetime,
    *,
    confirm: bool = False,
    telling: Telling = TELL,
    clash_fix: str = clashes.BLOCK,
) -> SessionChange:
    """Edit, move (time or room), resize, cancel or restore a session.

    A move checks the room, the speakers, the event's hours and the attendees' other
    sessions; a capacity below the seats taken is refused, a larger one fills seats from the
    waiting list. Attendees hear of a move or cancellation through the outbox, unless
    `telling` says not to. Attendees the move would give two seats at once block it, unless
    `clash_fix` says what to do with their seat here (schedule/clashes.py).
    """
    if clash_fix not in clashes.CLASH_FIXES:
        message = _("Choose what happens to attendees the change would double-book.")
        raise InvalidInput(message, {"clash_fix": [message]})
    event = session.event
    changes.lock_event(event)
    db.session.refresh(session, ["seats_taken", "capacity", "status"])
    edit = read_edit(session, data)
    values = edit.values
    touched = ranking_change(session, values)
    rankings = rankings_warning(session, touched)
    if edit.cancelling:
        conflicts.enforce(rankings, confirm=confirm)
        other = {k: v for k, v in values.items() if k != "status"}
        if other:
            update_session(actor, session, other, now, confirm=True, telling=telling)
        return cancel_session(actor, session, now, telling=telling)
    found = conflicts.check_session(edit.plan) + rankings
    clashing = clashes.find(session, edit.plan) if clash_fix != clashes.BLOCK else []
    if clashing:
        found = [c for c in found if c.kind != conflicts.ATTENDEE_OVERLAP]
    before_edit = [] if edit.restored else conflicts.check_session(plan_of(session))
    enforce_new(found, before_edit, confirm=confirm)

    before = audit.snapshot(session)
    previous = notifications.snapshot(session)
    old_capacity = session.capacity
    if edit.plan.capacity != old_capacity:
        set_capacity(session, edit.plan.capacity)
    for key in (*TEXT_FIELDS, "kind", "starts_at", "ends_at", "status"):
        if key in values:
            setattr(session, key, values[key])
    session.room = edit.room
    if "speakers" in values:
        session.speakers = speakers_named(event, edit.plan.speaker_names)
    change = SessionChange(session, moved=edit.moved, warnings=found)
    if (
        not edit.moved
        and not edit.retitled
        and (
            edit.restored
            or any(before.get(k) != audit.snapshot(session).get(k) for k in CALENDAR_FIELDS)
        )
    ):
        session.sequence += 1  # a move's or a new title's notification bumps it itself
    db.session.flush()
    fixed = []
    if clashing:
        fixed = clashes.resolve(clashing, clash_fix, session, now, telling, previous=previous)
    if edit.emails_move:
        change.notified = notifications.session_moved(
            session,
            now,
            previous=previous,
            notify=telling.notify,
            note=telling.note,
            skip=frozenset(f["attendee_id"] for f in fixed),
        )
    elif edit.retitled:  # only readers of a language whose title changed hear of it
        change.notified = notifications.sessions_changed(
            [session], now, notify=telling.notify, note=telling.note, locales=edit.retitled_in
        )
    change.notified += len(fixed) if telling.notify else 0
    if edit.plan.capacity > old_capacity or edit.restored or fixed:
        change.promoted = promote_from_waitlist(session, now)
    if touched:
        tell_rankers(session, touched, now, actor)
    action = "session.moved" if change.moved else "session.updated"
    told = telling.audit(change.notified) if (edit.emails_move or edit.retitled) else {}
    if fixed:
        told["clash_fix"] = clash_fix
        told["clashes_fixed"] = fixed
    record_change(
        actor, "session.restored" if edit.restored else action, session, before, now, told=told
    )
    return change


def plan_of(session: EventSession) -> SessionPlan:
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
            ngettext(
                "%(num)d seat is already taken; the capacity can't go below that "
                "(cancel or move attendees first).",
                "%(num)d seats are already taken; the capacity can't go below that "
                "(cancel or move attendees first).",
                session.seats_taken,
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
    telling: Telling = TELL,
    clash_fix: str = clashes.BLOCK,
) -> SessionChange:
    """Move a session in time and/or to another room (`room_id=None` takes it out of rooms)."""
    data = {"starts_at": starts_at, "ends_at": ends_at}
    if room_id is not KEEP_ROOM:
        data["room_id"] = room_id
    return update_session(
        actor, session, data, now, confirm=confirm, telling=telling, clash_fix=clash_fix
    )


def cancel_session(
    actor: Organiser | None, session: EventSession, now: datetime, *, telling: Telling = TELL
) -> SessionChange:
    """Cancel a session: it stays in the programme as cancelled, its attendees keep their
    registrations (so they can be told and their calendars updated) and are emailed, unless
    `telling` says not to."""
    if session.status == "cancelled":
        return SessionChange(session, cancelled=True)
    changes.lock_event(session.event)
    before = audit.snapshot(session)
    tell_rankers(session, "cancelled", now, actor)  # before the status changes: still ranked
    # Sets the status, bumps the sequence, ends the registrations and queues the emails.
    told = notifications.session_cancelled(session, now, notify=telling.notify, note=telling.note)
    record_change(actor, "session.cancelled", session, before, now, told=telling.audit(told))
    return SessionChange(session, cancelled=True, notified=told)
