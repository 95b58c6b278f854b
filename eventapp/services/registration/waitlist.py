"""The waiting list: freed seats pass to the first attendee they suit, in order.

Promotion runs in the transaction that freed the seat. The seat is taken through the same
capacity guard as a registration, and the registration row flips only from `waitlisted`
(a conditional UPDATE), so concurrent cancellations never give one seat twice or lose one.

An event's `promotion_mode` says what the first in line gets:
- "auto": the seat itself (status `confirmed`) and a "promoted" email;
- "offer": the seat is held for them (status `offered`, counted in `seats_taken`, so nobody
  else can take it meanwhile) and an "offer" email; they accept on their private page before
  `offer_expires_at`, or decline, or let it expire, and then it passes to the next in line.
`seats_taken` therefore always equals the rows that hold a seat: confirmed plus offered.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ...extensions import db
from ...i18n import in_reader_language
from ...models import Attendee, EventSession, Registration
from .. import audit
from ..errors import Forbidden, InvalidInput, NotFound, OfferExpired, ScheduleConflict, SessionFull
from ..mail.outbox import enqueue
from ..programme.reading import session_summary
from . import capacity

# The model's (Registration.SEAT_HOLDING), under the name services/allocation/runs.py imports.
SEAT_HOLDING = Registration.SEAT_HOLDING


def waitlist(session_id: int) -> list[Registration]:
    """The session's waiting list, first in line first."""
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.session_id == session_id, Registration.status == "waitlisted")
            .order_by(Registration.waitlisted_at, Registration.id)
        )
    )


def waitlist_positions(registrations: Iterable[Registration]) -> dict[int, int]:
    """{registration id: its place in line, 1 first} for those of `registrations` on a
    waiting list, in one statement: by the time they joined, then by id. A page or email that
    lists someone's places reads them all at once."""
    waiting = [r for r in registrations if r.status == "waitlisted" and r.waitlisted_at]
    if not waiting:
        return {}
    place = func.row_number().over(
        partition_by=Registration.session_id,
        order_by=(Registration.waitlisted_at, Registration.id),
    )
    lines = (
        select(Registration.id, place.label("place"))
        .where(
            Registration.session_id.in_({r.session_id for r in waiting}),
            Registration.status == "waitlisted",
            Registration.waitlisted_at.is_not(None),
        )
        .subquery()
    )
    places = db.session.execute(
        select(lines.c.id, lines.c.place).where(lines.c.id.in_([r.id for r in waiting]))
    )
    return dict(places.all())


def conflicting_session(
    registration: Registration, session: EventSession, *, ignoring: int | None = None
) -> EventSession | None:
    """A session the attendee holds a seat for that overlaps `session`, if any; `ignoring`
    one session (the fallback kept while waiting, given back when the seat comes)."""
    conditions = [
        Registration.attendee_id == registration.attendee_id,
        Registration.holds_seat,
        EventSession.id != session.id,
        EventSession.overlaps(session),
    ]
    if ignoring is not None:
        conditions.append(EventSession.id != ignoring)
    return db.session.scalars(
        select(EventSession)
        .join(Registration, Registration.session_id == EventSession.id)
        .where(*conditions)
    ).first()


def _ensure_no_clash(
    registration: Registration, session: EventSession, message, *, ignoring: int | None = None
) -> None:
    """ScheduleConflict naming both sessions when the attendee holds a seat that overlaps
    `session`; `message(held)` says it in the caller's words."""
    clash = conflicting_session(registration, session, ignoring=ignoring)
    if clash is not None:
        raise ScheduleConflict(message(clash), [session_summary(session), session_summary(clash)])


def has_conflict(registration: Registration, session: EventSession) -> bool:
    """Would this session overlap one the attendee already holds a seat for?"""
    return conflicting_session(registration, session) is not None


def release_fallback(registration: Registration, now: datetime) -> None:
    """Give back the seat kept while waiting, now that `registration` holds its own seat
    (or the attendee chose another fallback); it passes to the next on the fallback's
    waiting list in this transaction. Its confirmation put it in the attendee's calendar,
    so an email says it is given back and cancels it there (sessions_dropped); a held
    registration's fallback was never confirmed by email, so it gets none."""
    fallback_id = registration.fallback_session_id
    if fallback_id is None:
        return
    registration.fallback_session_id = None
    kept = db.session.scalar(
        select(Registration)
        .where(
            Registration.attendee_id == registration.attendee_id,
            Registration.session_id == fallback_id,
        )
        .execution_options(populate_existing=True)
    )
    if kept is None or not _flip(kept, "confirmed", "cancelled"):
        return  # given up meanwhile: nothing to give back
    capacity.release_seat(fallback_id)
    db.session.refresh(kept)
    kept.sequence += 1  # the calendars drop it as a newer version
    if not kept.attendee.on_hold:
        enqueue("sessions_dropped", kept.attendee, {"session_ids": [fallback_id]})
    promote_from_waitlist(kept.session, now)


def offer_deadline(session: EventSession, now: datetime) -> datetime | None:
    """Until when an offer for this session stands: the event's offer time, at most until
    the session starts. None once it has started: an offer could no longer be used."""
    if session.starts_at <= now:
        return None
    return min(now + timedelta(hours=session.event.offer_hours), session.starts_at)


def promote_from_waitlist(session: EventSession, now: datetime) -> list[Registration]:
    """Fill free seats from the waiting list; one who would clash keeps their place."""
    promoted: list[Registration] = []
    if session.status != "scheduled":
        return promoted
    offering = session.event.promotion_mode == "offer"
    expires_at = offer_deadline(session, now) if offering else None
    if offering and expires_at is None:
        return promoted
    for registration in waitlist(session.id):
        if conflicting_session(registration, session, ignoring=registration.fallback_session_id):
            continue
        if not capacity.take_seat(session.id):
            break
        target = "offered" if offering else "confirmed"
        if not _flip(registration, "waitlisted", target, offer_expires_at=expires_at):
            # Someone else moved this row first (a concurrent promotion or cancellation).
            capacity.release_seat(session.id)
            continue
        db.session.refresh(registration)
        if offering:
            payload = {"session_ids": [session.id], "expires_at": expires_at.isoformat()}
            enqueue("offer", registration.attendee, payload)
        else:
            release_fallback(registration, now)
            enqueue("promoted", registration.attendee, {"session_ids": [session.id]})
        action = "registration.offered" if offering else "registration.promoted"
        _record(None, registration, action, "waitlisted", now)
        promoted.append(registration)
    capacity.refresh_counters(session)
    return promoted


def _flip(
    registration: Registration,
    from_status: str,
    to_status: str,
    *,
    offer_expires_at: datetime | None = None,
    unexpired_at: datetime | None = None,
) -> bool:
    """Move one row between statuses only if it is still in `from_status`; True if it was.

    With `unexpired_at`, only an offer still standing at that instant moves.
    """
    conditions = [Registration.id == registration.id, Registration.status == from_status]
    if unexpired_at is not None:
        conditions.append(Registration.offer_expires_at > unexpired_at)
    result = db.session.execute(
        update(Registration)
        .where(*conditions)
        .values(status=to_status, waitlisted_at=None, offer_expires_at=offer_expires_at)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def open_offer(attendee: Attendee, session_id: int) -> Registration:
    """The attendee's offered registration for a session, or NotFound."""
    registration = db.session.scalar(
        select(Registration)
        .where(
            Registration.attendee_id == attendee.id,
            Registration.session_id == session_id,
            Registration.status == "offered",
        )
        .execution_options(populate_existing=True)
    )
    if registration is None:
        raise NotFound(_("There is no open offer for this session."))
    return registration


def accept_offer(attendee: Attendee, session_id: int, now: datetime) -> Registration:
    """Turn a standing offer into a confirmed seat, if it has not expired and fits."""
    registration = open_offer(attendee, session_id)
    session = registration.session
    if registration.offer_expires_at is None or registration.offer_expires_at <= now:
        raise OfferExpired(_("This offer has expired."))
    _ensure_no_clash(
        registration,
        session,
        lambda held: _(
            "“%(offered)s” takes place at the same time as “%(held)s”. "
            "Cancel that session first, or decline the offer.",
            offered=in_reader_language(session, "title"),
            held=in_reader_language(held, "title"),
        ),
        ignoring=registration.fallback_session_id,
    )
    # The expiry job may be flipping the same row: whoever updates first wins, once.
    if not _flip(registration, "offered", "confirmed", unexpired_at=now):
        raise OfferExpired(_("This offer has expired."))
    db.session.refresh(registration)
    release_fallback(registration, now)
    enqueue("promoted", attendee, {"session_ids": [session_id]})
    _record(attendee, registration, "registration.offer_accepted", "offered", now)
    db.session.flush()
    return registration


def _record(actor, registration: Registration, action: str, was: str, now: datetime) -> None:
    """The audit entry of a waiting-list step: who (the attendee, or None: automatic) moved
    the registration from `was` to its status now."""
    audit.record(
        actor,
        action,
        registration,
        before={"status": was},
        after={"status": registration.status},
        event=registration.session.event,
        now=now,
    )


def decline_offer(attendee: Attendee, session_id: int, now: datetime) -> Registration:
    """Give an offered seat back; it goes to the next in line at once."""
    registration = open_offer(attendee, session_id)
    capacity.lock_sessions([session_id])  # the session before the row: one lock order
    if not _flip(registration, "offered", "cancelled"):
        raise NotFound(_("There is no open offer for this session."))
    capacity.release_seat(session_id)
    db.session.refresh(registration)
    registration.sequence += 1
    _record(attendee, registration, "registration.offer_declined", "offered", now)
    promote_from_waitlist(registration.session, now)
    db.session.flush()
    return registration


def expire_offers(now: datetime) -> int:
    """Withdraw offers past their time and pass each seat on; returns how many expired."""
    due = db.session.execute(
        select(Registration.id, Registration.session_id)
        .where(Registration.status == "offered", Registration.offer_expires_at <= now)
        .order_by(Registration.session_id, Registration.id)
    ).all()
    expired_sessions: set[int] = set()
    count = 0
    for registration_id, session_id in due:
        capacity.lock_sessions([session_id])  # the session before the row: one lock order
        # Conditional, so an offer accepted at the same instant is either accepted or expired.
        result = db.session.execute(
            update(Registration)
            .where(
                Registration.id == registration_id,
                Registration.status == "offered",
                Registration.offer_expires_at <= now,
            )
            .values(status="cancelled", offer_expires_at=None, waitlisted_at=None)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            continue
        capacity.release_seat(session_id)
        registration = db.session.get(Registration, registration_id, populate_existing=True)
        enqueue("offer_expired", registration.attendee, {"session_ids": [session_id]})
        _record(None, registration, "registration.offer_expired", "offered", now)
        expired_sessions.add(session_id)
        count += 1
    for session_id in sorted(expired_sessions):
        promote_from_waitlist(db.session.get(EventSession, session_id), now)
    db.session.flush()
    return count


def promote_registration(
    registration: Registration, now: datetime, actor, *, override_capacity: bool = False
) -> Registration:
    """An organiser's manual promotion of one waitlisted registration, out of turn if need be.

    The same rules as everywhere: the seat comes through the capacity guard (or, for an
    admin who asks, over capacity: capacity.take_seat_over_capacity logs it), and a session
    that overlaps one the attendee already holds is refused. Audited; emails "promoted".
    """

    if override_capacity and not actor.has_role("admin"):
        raise Forbidden(_("Only an admin may book a session beyond its capacity."))
    session = registration.session
    if registration.status != "waitlisted" or registration.attendee.status != "active":
        raise InvalidInput(_("This registration is not on the waiting list."))
    if session.status != "scheduled":
        raise InvalidInput(_("This session has been cancelled."))
    _ensure_no_clash(
        registration,
        session,
        lambda held: _(
            "“%(wanted)s” takes place at the same time as “%(held)s”, "
            "which %(name)s already attends. Move them out of it first.",
            wanted=in_reader_language(session, "title"),
            held=in_reader_language(held, "title"),
            name=registration.attendee.name,
        ),
        ignoring=registration.fallback_session_id,
    )
    took = capacity.take_seat(session.id)
    if not took and override_capacity:
        took = capacity.take_seat_over_capacity(session, actor, attendee=registration.attendee)
    if not took:
        raise SessionFull(
            _("“%(title)s” is full.", title=in_reader_language(session, "title")),
            [session_summary(session)],
        )
    flipped = db.session.execute(
        update(Registration)
        .where(Registration.id == registration.id, Registration.status == "waitlisted")
        .values(status="confirmed", waitlisted_at=None, offer_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    if flipped.rowcount != 1:
        # Promoted or cancelled by someone else since the page was shown.
        capacity.release_seat(session.id)
        raise InvalidInput(_("This registration is not on the waiting list."))
    db.session.refresh(registration)
    release_fallback(registration, now)
    capacity.refresh_counters(session)
    enqueue("promoted", registration.attendee, {"session_ids": [session.id]})
    audit.record(
        actor,
        "registration.promote",
        registration,
        before={"status": "waitlisted"},
        after={
            "status": "confirmed",
            "session_id": session.id,
            "attendee": registration.attendee.reference,
        },
        event=session.event,
    )
    db.session.flush()
    return registration
