"""A fallback while waiting (issue 19.4).

On a full workshop the attendee joins its waiting list and may keep a seat in another
workshop of the same round meanwhile. The waiting-list row names that session
(Registration.fallback_session_id); when the place turns into a seat, waitlist.py gives the
fallback seat back in the same transaction, and it passes to the next on that session's own
waiting list. The seat is taken through the same capacity guard as any other.

The attendee names the fallback when registering (the form, the API's `fallbacks`) or later
(change_fallback: the manage page, the API's PATCH): choosing another gives the old seat
back, and choosing none keeps only the waiting-list place.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from ...extensions import db
from ...i18n import in_reader_language
from ...models import Attendee, OutboxMessage, Registration
from ..errors import InvalidInput, NotFound, RegistrationClosed, ScheduleConflict
from ..mail.outbox import enqueue
from ..programme import reading as programme
from ..programme.reading import ensure_open, session_summary
from .capacity import lock_attendee
from .register import take_seats
from .waitlist import conflicting_session, release_fallback


def hold_fallback(
    attendee: Attendee, waited_session_id: int, fallback_session_id: int, now: datetime
) -> Registration | None:
    """Keep a seat in `fallback_session_id` while the attendee waits for `waited_session_id`.

    None, and nothing taken, when there is no waiting-list place to cover (the waited
    session had a seat after all). InvalidInput when the fallback is not another workshop
    at the same time, ScheduleConflict when it clashes with another seat they hold,
    SessionFull when it is full: the caller rolls back.
    """
    waited = next(
        (
            r
            for r in attendee.registrations
            if r.session_id == waited_session_id and r.status == "waitlisted"
        ),
        None,
    )
    if waited is None:
        return None
    try:
        fallback = programme.session_of(attendee.event, fallback_session_id)
    except NotFound:
        fallback = None
    if (
        fallback is None
        or not fallback.registrable
        or fallback.kind != "workshop"
        or fallback.id == waited.session_id
        or not fallback.overlaps(waited.session)
    ):
        raise InvalidInput(
            _("Choose another workshop of the same round to keep while you wait."),
            {"fallback": [_("Choose another workshop of the same round.")]},
        )
    clash = conflicting_session(waited, fallback)
    if clash is not None:
        raise ScheduleConflict(
            _(
                "“%(a)s” clashes with “%(b)s”.",
                a=in_reader_language(fallback, "title"),
                b=in_reader_language(clash, "title"),
            ),
            [session_summary(fallback), session_summary(clash)],
        )
    [kept] = take_seats(attendee, [fallback], waitlist=False, now=now)
    waited.fallback_session_id = fallback.id
    _add_to_pending_confirmation(attendee, fallback.id)
    db.session.flush()
    return kept


def change_fallback(
    attendee: Attendee, waited_session_id: int, fallback_session_id: int | None, now: datetime
) -> Registration | None:
    """Choose, change or drop (None) the seat kept while waiting for `waited_session_id`,
    after registering: the old fallback's seat goes back to its waiting list and out of the
    attendee's calendar (sessions_dropped), the new one is taken as hold_fallback takes it
    (and confirmed by email). Nothing changes when the choice is the current one; an error
    (not waiting for that workshop, a full or unsuitable fallback) leaves the caller to roll
    back. Returns the new fallback's registration, if any."""
    if attendee.status != "active":
        raise RegistrationClosed(_("This registration has been cancelled."))
    ensure_open(attendee.event, now)
    lock_attendee(attendee)
    waited = next(
        (
            r
            for r in attendee.registrations
            if r.session_id == waited_session_id and r.status == "waitlisted"
        ),
        None,
    )
    if waited is None:
        message = _("You are not on the waiting list of this workshop.")
        raise InvalidInput(message, {"session_id": [message]})
    previous = waited.fallback_session_id
    if previous == fallback_session_id:
        return None
    if previous is not None:
        release_fallback(waited, now)  # emails the seat's cancellation
    if fallback_session_id is None:
        db.session.flush()
        return None
    return hold_fallback(attendee, waited_session_id, fallback_session_id, now)


def _add_to_pending_confirmation(attendee: Attendee, session_id: int) -> None:
    """The fallback's invitation goes in the confirmation not yet sent (one email, not two),
    or in a confirmation of its own when that one has gone (a fallback chosen later).

    Nothing while the attendee's seats are held unconfirmed: the email asking to confirm
    lists the fallback with the other seats, and confirming sends one confirmation with all
    of them (holds.confirm_hold); a "confirmed" email now would invite a held seat into the
    calendar of an address nobody has confirmed yet."""
    if attendee.on_hold:
        return
    message = db.session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.attendee_id == attendee.id,
            OutboxMessage.kind == "confirmation",
            OutboxMessage.status == "pending",
        )
        .order_by(OutboxMessage.id.desc())
    )
    if message is None:
        enqueue("confirmation", attendee, {"session_ids": [session_id]})
        return
    payload = dict(message.payload or {})
    payload["session_ids"] = [*payload.get("session_ids", []), session_id]
    message.payload = payload  # a new dict: the JSON column sees the change
