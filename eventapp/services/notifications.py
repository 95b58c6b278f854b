"""Telling attendees about programme changes, in the transaction that makes the change.

The organiser side calls these after changing a session (and before committing):

    before = notifications.snapshot(session)
    session.starts_at, session.ends_at, session.room = ...
    notifications.session_moved(session, now, previous=before)
    db.session.commit()

    notifications.session_cancelled(session, now)
    db.session.commit()

Each bumps `session.sequence`, so every calendar object sent afterwards (same UID) is a newer
version that calendars apply, and queues one outbox message per attendee; the worker renders
it with the session as it is by then. Like every service here they flush; the caller commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from ..extensions import db
from ..models import EventSession, Registration
from .outbox import enqueue

# Registrations an attendee still has: a seat, a place in line, or an offer of a seat.
ACTIVE = ("confirmed", "waitlisted", "offered")


def snapshot(session: EventSession) -> dict:
    """Where and when a session is now, for `previous=` after a move (JSON-ready)."""
    return {
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "room": session.room.name if session.room else "",
    }


def session_moved(session: EventSession, now: datetime, *, previous: dict | None = None) -> int:
    """A session got a new time or room: a calendar update for everyone registered for it.

    Confirmed attendees get the update with a METHOD:REQUEST (same UID, higher SEQUENCE);
    those on the waiting list or holding an offer get the email without calendar data (they
    have no event in their calendar yet). Returns the number of messages queued.
    """
    _bump_sequence(session)
    registrations = _registrations(session, ACTIVE)
    for registration in registrations:
        payload = {"session_ids": [session.id], "had_seat": registration.status == "confirmed"}
        if previous:
            payload["previous"] = previous
        enqueue("session_moved", registration.attendee, payload)
    db.session.flush()
    return len(registrations)


def session_cancelled(session: EventSession, now: datetime, *, reason: str | None = None) -> int:
    """The organiser cancels a session: every registration for it ends, and its people hear.

    The session becomes `cancelled` (no new seats: the capacity guard takes seats only in
    scheduled sessions) and its SEQUENCE goes up. Every active registration is cancelled
    and its seat released, so `seats_taken` ends at 0, equal to the seat-holding rows.
    Attendees who had a seat get METHOD:CANCEL with STATUS:CANCELLED for the same UID; those
    in line get the email only. Returns the number of messages queued.
    """
    # Lock the session row first: a registration taking a seat right now either committed
    # before (and is cancelled below) or waits and then finds the session not scheduled.
    db.session.execute(
        update(EventSession)
        .where(EventSession.id == session.id)
        .values(status="cancelled", sequence=EventSession.sequence + 1)
        .execution_options(synchronize_session=False)
    )
    registrations = _registrations(session, ACTIVE, lock=True)
    for registration in registrations:
        had_seat = registration.status in ("confirmed", "offered")
        registration.status = "cancelled"
        registration.waitlisted_at = None
        registration.offer_expires_at = None
        payload = {"session_ids": [session.id], "had_seat": had_seat}
        if reason:
            payload["reason"] = reason
        enqueue("session_cancelled", registration.attendee, payload)
    db.session.flush()
    holding = db.session.scalar(
        select(func.count()).where(
            Registration.session_id == session.id,
            Registration.status.in_(("confirmed", "offered")),
        )
    )
    db.session.execute(
        update(EventSession)
        .where(EventSession.id == session.id)
        .values(seats_taken=holding)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(session, ["status", "sequence", "seats_taken"])
    return len(registrations)


def _bump_sequence(session: EventSession) -> None:
    """+1 in the database, not in Python, so two changes at once both count."""
    db.session.flush()
    db.session.execute(
        update(EventSession)
        .where(EventSession.id == session.id)
        .values(sequence=EventSession.sequence + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(session, ["sequence"])


def _registrations(session: EventSession, statuses, *, lock: bool = False) -> list[Registration]:
    query = (
        select(Registration)
        .where(Registration.session_id == session.id, Registration.status.in_(statuses))
        .order_by(Registration.id)
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update()
    return list(db.session.scalars(query))
