"""An event's own life: created, edited, moved as a whole, cancelled as a whole."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ....extensions import db
from ....models import Event, EventSession, Organiser
from ... import audit
from ...errors import AlreadyExists, NotFound
from .. import conflicts, notifications
from ..cleaning import clean_event_data, ensure_order
from .changes import apply_changes, enforce_new, lock_event


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
        enforce_new(
            conflicts.hours_conflicts(event, starts_at, ends_at),
            conflicts.hours_conflicts(event, event.starts_at, event.ends_at),
            confirm=confirm,
        )
    return apply_changes(actor, "event.updated", event, values, now)


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
        previous = notifications.snapshot(session)
        session.starts_at += delta
        session.ends_at += delta
        db.session.flush()
        if session.status == "scheduled":
            notifications.session_moved(session, now, previous=previous)
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
