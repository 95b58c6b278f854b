"""Confirm email before seats are held (the event setting `confirm_email_first`).

A public registration of such an event takes its seats at once, as any registration does,
but only for `event.hold_minutes`: `attendee.hold_expires_at` says until when
(register.hold_deadline). Its email ("confirm_email") asks the attendee to confirm with the
private link; only the mailbox gets that link (the form's confirmation page and the API's
201 answer leave it out), so a script without real mailboxes cannot keep a seat. The link's
page confirms with a POST, not on opening: mail filters that follow links confirm nothing.

- confirm_hold: the attendee's POST; the hold is cleared and the usual confirmation email
  (calendar invitations, check-in code, links) follows. A confirmation that comes after
  the time but before the periodic job ran still counts: the seats were still theirs.
- release_expired_holds: the periodic job; each hold past its time is cancelled through
  register.cancel_registration, so seats go back and waiting lists move on, without an
  email to an address nobody confirmed. `hold_expires_at` stays on the cancelled
  attendee, as the record of why.

Both lock the attendee first and decide on the row as locked, so a confirmation and the
job at the same instant do one or the other. A waiting-list place is held the same way
(a script would otherwise queue up for every seat that frees); a held attendee can be
promoted meanwhile, and the seat stays under the same hold.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from ...extensions import db
from ...models import Attendee, Event
from ..errors import RegistrationClosed
from ..mail.outbox import enqueue
from .capacity import lock_attendee
from .register import active_registrations, cancel_registration


def _locked(attendee: Attendee) -> Attendee:
    """The attendee as it is now, locked against a concurrent confirmation or release."""
    lock_attendee(attendee)
    db.session.refresh(attendee, ["status", "hold_expires_at"])
    return attendee


def confirm_hold(attendee: Attendee, now: datetime) -> bool:
    """Confirm the attendee's email: their held seats become theirs. True when this call
    confirmed them, False when there was nothing to confirm (confirmed before)."""
    attendee = _locked(attendee)
    if attendee.status != "active":
        raise RegistrationClosed(
            _("This registration was not confirmed in time and has been cancelled.")
            if attendee.hold_expires_at is not None
            else _("This registration has been cancelled.")
        )
    if attendee.hold_expires_at is None:
        return False
    attendee.hold_expires_at = None
    sessions = [r.session_id for r in active_registrations(attendee)]
    enqueue("confirmation", attendee, {"session_ids": sessions})
    db.session.flush()
    return True


def release_expired_holds(now: datetime) -> int:
    """Cancel the registrations whose hold ran out unconfirmed; returns how many.

    Events that have ended are left alone: their seats no longer matter, and the cancel
    path refuses changes after the end."""
    due = db.session.scalars(
        select(Attendee.id)
        .join(Event, Event.id == Attendee.event_id)
        .where(
            Attendee.status == "active",
            Attendee.hold_expires_at <= now,
            Event.ends_at > now,
        )
        .order_by(Attendee.id)
    ).all()
    released = 0
    for attendee_id in due:
        attendee = _locked(db.session.get(Attendee, attendee_id))
        if not _expired(attendee, now):
            continue  # confirmed meanwhile
        cancel_registration(attendee, now, email=False)
        released += 1
    return released


def _expired(attendee: Attendee, now: datetime) -> bool:
    return (
        attendee.status == "active"
        and attendee.hold_expires_at is not None
        and attendee.hold_expires_at <= now
    )
