"""What an organiser does to many attendees at once from the attendee list: cancel, move to
a session, resend the confirmation; and resending one attendee's confirmation.

Every action goes through the one-attendee path (attendees.cancel_attendee,
attendees.move_attendee, the registration service under them), one attendee at a time in a
savepoint: the capacity guard, the overlap rule, the waiting lists and the emails are the
usual ones, and one attendee the rules refuse does not undo the others. Each action answers
with an `Outcome` per attendee, so the organiser reads what happened to whom.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from ...extensions import db
from ...models import Attendee, Event, EventSession, Organiser, OutboxMessage
from .. import audit
from ..errors import DomainError, InvalidInput, RegistrationClosed
from ..mail.outbox import enqueue
from ..registration import register as registration
from .attendees import AttendeeFilter, attendee_query, cancel_attendee, move_attendee
from .messages import SELECTED_MAX

# The most attendees one action takes: past any page, and the size of a large event; the
# composer takes as many ("message the selected").
SELECTION_MAX = SELECTED_MAX
# A confirmation queued this recently is not sent again: a double click, or an impatient
# attendee on the phone, gets one email, not five.
RESEND_INTERVAL = timedelta(minutes=10)


class SelectionChanged(DomainError):
    """The selection is not what the organiser confirmed (someone cancelled meanwhile)."""

    def __init__(self, message: str, count: int):
        super().__init__(message, "selection_changed", 409, {"count": count})


class TooSoon(DomainError):
    def __init__(self, message: str):
        super().__init__(message, "too_soon", 429)


@dataclass(frozen=True)
class Selection:
    """The attendees an action applies to: those ticked (`ids`), or, when `matching` is
    set, everyone the list's filter finds (on every page, not only the one shown)."""

    ids: tuple[int, ...] = ()
    matching: AttendeeFilter | None = None

    @property
    def empty(self) -> bool:
        return self.matching is None and not self.ids


@dataclass
class Outcome:
    """What one action did to one attendee, in words for the report."""

    attendee: Attendee
    done: bool
    note: str
    # Why it was not done, for the summary: "full", "conflict", "already", "cancelled", or
    # "refused" (another rule; the note has its words).
    reason: str = ""


def selected_attendees(event: Event, selection: Selection) -> list[Attendee]:
    """The selection's attendees of this event (ids of other events are ignored), by name."""
    if selection.matching is not None:
        stmt = attendee_query(event, selection.matching)
    else:
        stmt = (
            select(Attendee)
            .where(Attendee.event_id == event.id, Attendee.id.in_(selection.ids))
            .order_by(Attendee.name, Attendee.id)
        )
    attendees = list(db.session.scalars(stmt.limit(SELECTION_MAX + 1)))
    if len(attendees) > SELECTION_MAX:
        raise InvalidInput(
            _("Select at most %(n)d attendees at once.", n=SELECTION_MAX),
            {"attendee": [_("Select at most %(n)d attendees at once.", n=SELECTION_MAX)]},
        )
    return attendees


def active_only(attendees: list[Attendee]) -> list[Attendee]:
    return [a for a in attendees if a.status == "active"]


def _each(attendees: list[Attendee], act: Callable[[Attendee], Outcome]) -> list[Outcome]:
    """Apply `act` to each attendee in its own savepoint: a refusal (a domain error) rolls
    back that attendee only and becomes their line in the report."""
    outcomes = []
    for attendee in attendees:
        try:
            with db.session.begin_nested():
                outcomes.append(act(attendee))
        except DomainError as error:
            reason = _REASONS_BY_CODE.get(error.code, "refused")
            outcomes.append(Outcome(attendee, False, error.message, reason))
    return outcomes


# The refusals the summary counts apart: their error codes (services/errors.py).
_REASONS_BY_CODE = {"full": "full", "schedule_conflict": "conflict"}


def _skip_cancelled(act: Callable[[Attendee], Outcome]) -> Callable[[Attendee], Outcome]:
    def act_on_active(attendee: Attendee) -> Outcome:
        if attendee.status != "active":
            note = _("Registration already cancelled; nothing changed.")
            return Outcome(attendee, False, note, "cancelled")
        return act(attendee)

    return act_on_active


def bulk_cancel(
    event: Event,
    selection: Selection,
    *,
    actor: Organiser,
    now: datetime,
    expected_count: int | None,
) -> list[Outcome]:
    """Cancel every active attendee of the selection by the normal cancel path (seats go
    back, waiting lists move on, each attendee gets the cancellation email).

    `expected_count` is the number the confirmation step named; a different number now
    (someone cancelled or registered meanwhile) refuses the whole action.
    """
    attendees = selected_attendees(event, selection)
    count = len(active_only(attendees))
    if expected_count != count:
        raise SelectionChanged(
            _(
                "The selection changed: %(now)d registrations would be cancelled, not "
                "%(before)d. Check the list and confirm again.",
                now=count,
                before=expected_count or 0,
            ),
            count,
        )

    def cancel(attendee: Attendee) -> Outcome:
        cancel_attendee(attendee, actor=actor, now=now)
        return Outcome(attendee, True, _("Cancelled; the attendee is emailed."))

    return _each(attendees, _skip_cancelled(cancel))


def move_target(event: Event, session_id: object) -> EventSession:
    """The session to move people to: one of this event's that takes registrations."""
    message = _("Choose a session to move the attendees to.")
    if not isinstance(session_id, int):
        raise InvalidInput(message, {"move_to": [message]})
    [session] = registration.load_registrable_sessions(event, [session_id])
    return session


def bulk_move(
    event: Event, selection: Selection, session: EventSession, *, actor: Organiser, now: datetime
) -> list[Outcome]:
    """Move each attendee into `session`, giving up what they hold of the same kind at the
    same time (a workshop of the same round), by the registration rules.

    A full session, or a clash with a session of another kind (the plenary), leaves the
    attendee as they were and says so in their line of the report.
    """

    def move(attendee: Attendee) -> Outcome:
        held = registration.active_registrations(attendee)
        if any(r.session_id == session.id for r in held):
            return Outcome(attendee, False, _("Already registered for this session."), "already")
        replaced = [r.session for r in held if _same_slot(r.session, session)]
        kept = [r.session_id for r in held if r.session not in replaced]
        move_attendee(attendee, [*kept, session.id], actor=actor, now=now)
        if not replaced:
            return Outcome(attendee, True, _("Added to the session."))
        titles = ", ".join(s.title for s in replaced)
        return Outcome(attendee, True, _("Moved here from %(titles)s.", titles=titles))

    return _each(selected_attendees(event, selection), _skip_cancelled(move))


def move_summary(outcomes: list[Outcome]) -> str:
    """The bulk move's result in one paragraph: how many were moved, how many were not, and
    why, counted by reason (the trial's "Done for 1 of 4" left the organiser counting the
    report's lines to learn that two found the session full)."""
    moved = sum(1 for o in outcomes if o.done)
    text = ngettext(
        "%(moved)d of %(num)d attendee moved.",
        "%(moved)d of %(num)d attendees moved.",
        len(outcomes),
        moved=moved,
    )
    missed = [o.reason or "refused" for o in outcomes if not o.done]
    if not missed:
        return text
    parts = [_reason_count(reason, missed.count(reason)) for reason in _REASON_ORDER]
    why = ", ".join(part for part in parts if part)
    head = ngettext("%(num)d could not be moved:", "%(num)d could not be moved:", len(missed))
    return f"{text} {head} {why}."


_REASON_ORDER = ("full", "conflict", "already", "cancelled", "refused")


def _reason_count(reason: str, count: int) -> str:
    """ "2 because the session is full": one reason's share of the attendees not moved."""
    if not count:
        return ""
    words = {
        "full": lambda: ngettext(
            "%(num)d because the session is full",
            "%(num)d because the session is full",
            count,
        ),
        "conflict": lambda: ngettext(
            "%(num)d because of a clash with a session they hold",
            "%(num)d because of a clash with a session they hold",
            count,
        ),
        "already": lambda: ngettext(
            "%(num)d already registered for it", "%(num)d already registered for it", count
        ),
        "cancelled": lambda: ngettext(
            "%(num)d because their registration is cancelled",
            "%(num)d because their registration is cancelled",
            count,
        ),
        "refused": lambda: ngettext(
            "%(num)d refused by another rule (see their line)",
            "%(num)d refused by another rule (see their lines)",
            count,
        ),
    }
    return words[reason]()


def _same_slot(held: EventSession, target: EventSession) -> bool:
    """A session the move gives up: the same kind (workshop for workshop) at the same time."""
    return held.kind == target.kind and held.overlaps(target)


def last_confirmation_at(attendee: Attendee) -> datetime | None:
    """When the attendee's latest confirmation was queued; one that failed does not count,
    since it never arrived."""
    return db.session.scalar(
        select(OutboxMessage.created_at)
        .where(
            OutboxMessage.attendee_id == attendee.id,
            OutboxMessage.kind == "confirmation",
            OutboxMessage.status != "failed",
        )
        .order_by(OutboxMessage.created_at.desc())
        .limit(1)
    )


def resend_confirmation(attendee: Attendee, *, actor: Organiser, now: datetime) -> OutboxMessage:
    """Queue a fresh confirmation: the current sessions, a calendar invitation for each seat
    and the check-in code, rendered when sent. Not twice within RESEND_INTERVAL. Audited."""
    if attendee.status != "active":
        raise RegistrationClosed(_("This registration has been cancelled."))
    held = registration.active_registrations(attendee)
    if not held:
        raise RegistrationClosed(_("This attendee holds no sessions."))
    last = last_confirmation_at(attendee)
    if last is not None and now - last < RESEND_INTERVAL:
        minutes = int(RESEND_INTERVAL.total_seconds() // 60)
        raise TooSoon(
            _(
                "A confirmation was queued for this attendee less than %(n)d minutes ago.",
                n=minutes,
            )
        )
    seats = sorted(r.session_id for r in held if r.status == "confirmed")
    message = enqueue("confirmation", attendee, {"session_ids": seats, "resend": True})
    message.created_at = now
    audit.record(
        actor,
        "attendee.resend_confirmation",
        attendee,
        before=None,
        after={"session_ids": seats},
        event=attendee.event,
    )
    db.session.flush()
    return message


def bulk_resend(
    event: Event, selection: Selection, *, actor: Organiser, now: datetime
) -> list[Outcome]:
    def resend(attendee: Attendee) -> Outcome:
        resend_confirmation(attendee, actor=actor, now=now)
        return Outcome(attendee, True, _("A fresh confirmation is on its way."))

    return _each(selected_attendees(event, selection), _skip_cancelled(resend))
