"""The waiting list: freed seats pass to the first attendee they suit, in order.

Promotion runs in the transaction that freed the seat. The seat is taken through the same
capacity guard as a registration, and the registration row flips only from `waitlisted`
(a conditional UPDATE), so concurrent cancellations never give one seat twice or lose one.
"""

from datetime import datetime

from sqlalchemy import select, update

from ..extensions import db
from ..models import EventSession, Registration
from . import capacity
from .outbox import enqueue


def waitlist(session_id: int) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.session_id == session_id, Registration.status == "waitlisted")
            .order_by(Registration.waitlisted_at, Registration.id)
        )
    )


def waitlist_position(registration: Registration) -> int | None:
    if registration.status != "waitlisted":
        return None
    ahead = [r.id for r in waitlist(registration.session_id)]
    return ahead.index(registration.id) + 1 if registration.id in ahead else None


def has_conflict(registration: Registration, session: EventSession) -> bool:
    """Would this session overlap one the attendee already holds a confirmed seat for?"""
    confirmed = db.session.scalars(
        select(EventSession)
        .join(Registration, Registration.session_id == EventSession.id)
        .where(
            Registration.attendee_id == registration.attendee_id,
            Registration.status == "confirmed",
            EventSession.id != session.id,
            EventSession.starts_at < session.ends_at,
            EventSession.ends_at > session.starts_at,
        )
    ).first()
    return confirmed is not None


def promote_from_waitlist(session: EventSession, now: datetime) -> list[Registration]:
    """Fill free seats from the waiting list; one who would clash keeps their place."""
    promoted: list[Registration] = []
    if session.status != "scheduled":
        return promoted
    for registration in waitlist(session.id):
        if has_conflict(registration, session):
            continue
        if not capacity.take_seat(session.id):
            break
        if not _flip_to_confirmed(registration):
            capacity.release_seat(session.id)
            continue
        db.session.refresh(registration)
        enqueue("promoted", registration.attendee, {"session_ids": [session.id]})
        promoted.append(registration)
    capacity.refresh_counters(session)
    return promoted


def _flip_to_confirmed(registration: Registration) -> bool:
    result = db.session.execute(
        update(Registration)
        .where(Registration.id == registration.id, Registration.status == "waitlisted")
        .values(status="confirmed", waitlisted_at=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
