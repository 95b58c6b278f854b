"""Attendees a session's move would give two seats at once, and the organiser's bulk fix.

A move that puts a session on top of another session some of its attendees also hold a seat
in blocks (conflicts.ATTENDEE_OVERLAP: nobody may hold overlapping seats). Instead of moving
those attendees one by one, the organiser picks one fix for all of them, applied in the
move's own transaction; their seat in the *moved* session is the one that gives way (their
other session did not change):

- ALTERNATIVE: a seat in another workshop of the round the session leaves (the slot they
  now have free), one with seats left and no clash with their other sessions; who gets which
  is `propose`d in the preview and again when the move is saved. Anyone no seat is left for
  goes to the waiting list instead.
- WAITLIST: their seat goes back and they join the moved session's waiting list (promotion
  skips them while they hold the other session, registration/waitlist.py).

Each of them gets one email ("clash_resolved"): the move, what happened to their seat, the
calendar cancellation and, with a new seat, its invitation; not the move's own email.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ....extensions import db
from ....models import Attendee, EventSession, Registration
from ...mail.outbox import enqueue
from ...registration import capacity
from ...registration.seating import release
from ..conflicts import SessionPlan, attendee_overlap_rows

BLOCK = "block"
ALTERNATIVE = "alternative"
WAITLIST = "waitlist"
CLASH_FIXES = (BLOCK, ALTERNATIVE, WAITLIST)


@dataclass
class Clash:
    """One attendee the move would double-book: their seat here, the session it clashes
    with, and the workshop proposed instead (None: the waiting list)."""

    registration: Registration
    attendee: Attendee
    other: EventSession
    alternative: EventSession | None = None

    def to_dict(self) -> dict:
        return {
            "attendee": {"id": self.attendee.id, "name": self.attendee.name},
            "clashes_with": {"id": self.other.id, "title": self.other.title},
            "alternative": (
                {"id": self.alternative.id, "title": self.alternative.title}
                if self.alternative
                else None
            ),
        }


def find(session: EventSession, plan: SessionPlan) -> list[Clash]:
    """Who the planned move would double-book (each attendee once), with a proposal each."""
    if not plan.check_attendees:
        return []
    seen: dict[int, Clash] = {}
    for registration, attendee, other in attendee_overlap_rows(plan):
        seen.setdefault(attendee.id, Clash(registration, attendee, other))
    found = sorted(seen.values(), key=lambda c: (c.attendee.name.lower(), c.attendee.id))
    propose(session, found)
    return found


def _round_workshops(session: EventSession) -> list[EventSession]:
    """Other scheduled workshops overlapping where the session is now (the round it leaves),
    with seats left, most seats left first."""
    if session.kind != "workshop":
        return []
    with db.session.no_autoflush:
        workshops = db.session.scalars(
            select(EventSession).where(
                EventSession.event_id == session.event_id,
                EventSession.id != session.id,
                EventSession.kind == "workshop",
                EventSession.status == "scheduled",
                EventSession.seats_taken < EventSession.capacity,
                EventSession.overlaps(session),
            )
        ).all()
    return sorted(workshops, key=lambda s: (s.seats_taken - s.capacity, s.starts_at, s.id))


def _held_elsewhere(attendee: Attendee, session: EventSession) -> tuple[set[int], list]:
    """The attendee's active sessions (ids) and their confirmed seats other than here."""
    active = {r.session_id for r in attendee.registrations if r.is_active}
    seats = [
        r.session
        for r in attendee.registrations
        if r.status == "confirmed" and r.session_id != session.id
    ]
    return active, seats


def propose(session: EventSession, found: list[Clash]) -> None:
    """Give each clash the first workshop of the round left that still has a seat after
    the ones proposed before it, and clashes with nothing else the attendee holds."""
    workshops = _round_workshops(session)
    left = {w.id: w.capacity - w.seats_taken for w in workshops}
    for clash in found:
        active, seats = _held_elsewhere(clash.attendee, session)
        clash.alternative = None
        for workshop in workshops:
            if left[workshop.id] <= 0 or workshop.id in active:
                continue
            if any(workshop.overlaps(seat) for seat in seats if seat.status == "scheduled"):
                continue
            clash.alternative = workshop
            left[workshop.id] -= 1
            break


def resolve(
    found: list[Clash],
    fix: str,
    session: EventSession,
    now: datetime,
    telling,
    *,
    previous: dict | None = None,
) -> list[dict]:
    """Apply `fix` to every clash after the session moved (flushed), in this transaction.

    The clashes come from `find` before the move was written (the round the session left is
    where it was then), under the event's lock; a proposed seat somebody took meanwhile
    sends that attendee to the waiting list. Returns, per attendee, where their seat went
    (`to_session_id`, None: the waiting list), for the audit entry; the caller promotes
    from the session's waiting list afterwards."""
    if fix != ALTERNATIVE:
        for clash in found:
            clash.alternative = None
    capacity.lock_sessions(
        [session.id] + [c.alternative.id for c in found if c.alternative is not None]
    )
    outcome = []
    for clash in found:
        target = clash.alternative
        if target is not None and not capacity.take_seat(target.id):
            target = None  # taken since it was proposed: the waiting list, as promised
        release(clash.registration, now)
        if target is None:
            clash.registration.status = "waitlisted"
            clash.registration.waitlisted_at = now
        else:
            _confirm(clash.attendee, target, now)
        db.session.flush()
        outcome.append({"attendee_id": clash.attendee.id, "to_session_id": target and target.id})
        if telling.notify:
            _tell(clash, session, target, telling.note, previous)
    return outcome


def _confirm(attendee: Attendee, target: EventSession, now: datetime) -> None:
    """A confirmed seat in `target` (taken already): a new row, or their old one back."""
    existing = next((r for r in attendee.registrations if r.session_id == target.id), None)
    if existing is None:
        db.session.add(
            Registration(attendee=attendee, session=target, status="confirmed", created_at=now)
        )
        return
    if existing.status == "cancelled":
        existing.sequence += 1  # back in the calendar: a newer version than its cancellation
    existing.status = "confirmed"
    existing.waitlisted_at = None
    existing.offer_expires_at = None


def _tell(clash: Clash, session: EventSession, target, note: str, previous) -> None:
    payload = {
        "session_ids": [session.id] + ([target.id] if target else []),
        "moved_id": session.id,
        "other_title": clash.other.title,
        "alternative_id": target.id if target else None,
    }
    if previous:
        payload["previous"] = previous
    if note:
        payload["note"] = note
    enqueue("clash_resolved", clash.attendee, payload)
