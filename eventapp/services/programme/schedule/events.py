"""An event's own life: created, edited, moved as a whole, cancelled as a whole."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ....extensions import db
from ....models import Event, EventRole, EventSession, Organiser, Registration
from ... import audit
from ...errors import AlreadyExists, InvalidInput, NotFound
from .. import conflicts, notifications
from ..cleaning import clean_event_data, ensure_order, shift_wall_clock, within_years
from . import changes
from .changes import TELL, Telling, enforce_new


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
    if actor is not None and actor.role != "admin":
        # Whoever creates an event runs it: roles are per event (models.EventRole).
        db.session.add(EventRole(event_id=event.id, organiser_id=actor.id, role="organiser"))
        db.session.flush()
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
    actor: Organiser | None,
    event: Event,
    data: dict,
    now: datetime,
    *,
    confirm: bool = False,
    telling: Telling = TELL,
) -> Event:
    """Change an event; new hours that leave sessions outside them need confirmation. A new
    venue updates every attendee's calendar, with an email unless `telling` says not to."""
    values = clean_event_data(data, partial=True, current_tz=event.timezone)
    changes.lock_event(event)
    starts_at = values.get("starts_at", event.starts_at)
    ends_at = values.get("ends_at", event.ends_at)
    ensure_order(starts_at, ends_at)
    if "slug" in values:
        _ensure_slug_free(values["slug"], except_id=event.id)
    if (starts_at, ends_at) != (event.starts_at, event.ends_at):
        enforce_new(
            conflicts.hours_conflicts(event, starts_at, ends_at),
            conflicts.hours_conflicts(event, event.starts_at, event.ends_at),
            confirm=confirm,
        )
    new_venue = venue_changes(event, values)
    before = audit.snapshot(event)
    for key, value in values.items():
        setattr(event, key, value)
    db.session.flush()
    told = {}
    if new_venue:  # calendars show the venue in every session's LOCATION
        count = notifications.sessions_changed(
            sessions_of_event(event), now, notify=telling.notify, note=telling.note
        )
        told = telling.audit(count)
    changes.record_change(actor, "event.updated", event, before, now, told=told)
    return event


def venue_changes(event: Event, values: dict) -> bool:
    """Whether cleaned event values give it a new venue (which every calendar shows)."""
    return "venue" in values and values["venue"] != event.venue


def move_event(
    actor: Organiser | None,
    event: Event,
    starts_at: object,
    now: datetime,
    *,
    telling: Telling = TELL,
) -> list[EventSession]:
    """Move the whole event to a new start: every session keeps its wall-clock time
    relative to it, and its length. Attendees of each moved session are emailed. The
    registration deadline moves along; the opening date stays. Returns the sessions moved.

    Across a daylight-saving change the wall clock is not absolute time: a night with one
    02:00 instead of two would put a session of the repeated hour on the hour before it.
    A move that so makes a room, speaker or attendee hold two sessions at once is refused
    (Conflict, nothing changed) rather than done silently (docs/CALENDAR.md)."""
    values = clean_event_data({"starts_at": starts_at}, partial=True, current_tz=event.timezone)
    tz = event.timezone
    local = values["starts_at"].astimezone(event.tz).replace(tzinfo=None)
    delta = local - event.starts_at.astimezone(event.tz).replace(tzinfo=None)
    if not delta:
        return []
    sessions = sessions_of_event(event)
    _ensure_move_stays_in_range(event, sessions, delta)
    changes.lock_event(event)
    conflicts_before = conflicts.event_conflicts(event, sessions)
    before = audit.snapshot(event)
    event.starts_at = values["starts_at"]
    event.ends_at = shift_wall_clock(event.ends_at, delta, tz, "ends_at")
    if event.registration_closes_at is not None:
        event.registration_closes_at = shift_wall_clock(
            event.registration_closes_at, delta, tz, "registration_closes_at"
        )
    moved = []
    for session in sessions:
        length = session.ends_at - session.starts_at  # absolute: the same minutes after it
        session.starts_at = shift_wall_clock(session.starts_at, delta, tz, "starts_at")
        session.ends_at = session.starts_at + length
        if session.status == "scheduled":
            moved.append(session)
    db.session.flush()
    enforce_new(conflicts.event_conflicts(event, sessions), conflicts_before, confirm=True)
    # One email per attendee for the whole move, not one per session (issue 17).
    told = notifications.sessions_changed(
        moved, now, statuses=Registration.ACTIVE, notify=telling.notify, note=telling.note
    )
    after = audit.snapshot(event, extra={"sessions_moved": len(moved), **telling.audit(told)})
    audit.record(actor, "event.moved", event, *audit.changed_only(before, after), now=now)
    return moved


def _ensure_move_stays_in_range(event: Event, sessions: list[EventSession], delta) -> None:
    """Refuse a move that would carry any date of the event past the years an event may
    have (cleaning.within_years): the new start is checked, but a session or deadline far
    from it rides along, and repeated moves would push it to year 9959, then past 9999."""
    instants = [event.starts_at, event.ends_at, event.registration_closes_at]
    instants += [t for s in sessions for t in (s.starts_at, s.ends_at)]
    try:
        fits = all(within_years(t + delta) for t in instants if t is not None)
    except OverflowError:
        fits = False
    if not fits:
        message = _("This move would put part of the programme outside the years 2000–2999.")
        raise InvalidInput(message, {"starts_at": [message]})


def cancel_event(actor: Organiser | None, event: Event, now: datetime) -> list[EventSession]:
    """Cancel every scheduled session (seats released) and close the event to registration.

    Each attendee gets one email for the whole event, not one per session (see
    notifications.event_cancelled); an event already cancelled sends nothing new. Returns the
    sessions cancelled."""
    changes.lock_event(event)
    before = audit.snapshot(event)
    cancelled = [s for s in sessions_of_event(event) if s.status == "scheduled"]
    notifications.event_cancelled(cancelled, now)
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
