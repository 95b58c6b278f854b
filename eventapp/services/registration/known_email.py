"""A registration for an address the event already knows: the answer must not be a free
look-up of who registered.

Before, a full session answered `already_registered` for a known address and `full` for an
unknown one, and wrote nothing either way: anyone could learn, without a trace, whether a
person had registered. Now the answers follow one rule, whoever owns the address:
- a session that is full (without `waitlist`) answers `full` for every address, known or not;
- otherwise a known address answers `already_registered`, and the owner of the address is
  sent their private link (the "lost link" email) in a transaction of its own, committed
  after the refused registration rolled back. An unknown address gets a registration and a
  confirmation email. Either way the address's owner hears of the attempt, so the probe is
  no longer free of side effects, and one pending link email at a time keeps it from
  becoming a way to flood someone's mailbox.
"""

from __future__ import annotations

from functools import partial

from flask_babel import gettext as _
from sqlalchemy import select

from ...extensions import db
from ...i18n import in_reader_language
from ...models import Attendee, Event, EventSession, OutboxMessage
from ..errors import AlreadyRegistered, SessionFull
from ..mail.outbox import enqueue
from ..programme.reading import session_summary
from ..validation import normalize_email


def session_full(full: list[EventSession]) -> SessionFull:
    return SessionFull(
        _(
            "Full: %(titles)s.",
            titles=", ".join(f"“{in_reader_language(s, 'title')}”" for s in full),
        )
        + " "
        + _("You can join the waiting list."),
        [session_summary(s) for s in full],
    )


def already_registered() -> AlreadyRegistered:
    return AlreadyRegistered(
        _(
            "This email address is already registered for this event. "
            "Use the link in your confirmation email to change your registration."
        )
    )


def refuse_known_email(
    event: Event, email: str, sessions: list[EventSession], *, waitlist: bool
) -> None:
    """Raise the answer for an address the event already has (see the module docstring)."""
    if not waitlist:
        full = _full_now([s.id for s in sessions])
        if full:
            raise session_full([s for s in sessions if s.id in full])
    error = already_registered()
    # Run by whoever answers, after the rollback (eventapp/errors.py, the registration form).
    error.after_rollback = partial(tell_the_owner, event.id, email)
    raise error


def _full_now(session_ids: list[int]) -> set[int]:
    """The sessions among these with no seat left, as committed now (not as loaded)."""
    if not session_ids:
        return set()
    table = EventSession.__table__
    return set(
        db.session.scalars(
            select(table.c.id).where(
                table.c.id.in_(session_ids), table.c.seats_taken >= table.c.capacity
            )
        )
    )


def tell_the_owner(event_id: int, email: str) -> None:
    """Queue the registered address's private link, unless one is already waiting."""
    attendee = db.session.scalar(
        select(Attendee).where(
            Attendee.event_id == event_id,
            Attendee.email_normalized == normalize_email(email),
            Attendee.anonymised_at.is_(None),
        )
    )
    if attendee is None:
        return
    pending = db.session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.attendee_id == attendee.id,
            OutboxMessage.kind == "lost_link",
            OutboxMessage.status.in_(("pending", "sending")),
        )
    )
    if pending is None:
        enqueue("lost_link", attendee, {})
        db.session.flush()
